"""QM reference dissociation curves of diatomics, with two branches at every R.

* ionic / molecular branch: RHF (PySCF default guess) -> CCSD(T) (RKS for DFT levels) for a
  singlet ground state; UHF at the molecule's ground-state spin (O2 triplet, NO doublet; the
  spin rule of molecules.diatomics) -> UCCSD(T) otherwise;
* fragment broken-symmetry branch: UHF started from the block-diagonal sum of the two
  free atoms' UHF densities, A spin-up and B spin-down (the atom with the larger spin is
  the spin-up one), internal stability followed -> UCCSD(T) (UKS for DFT levels).

The lower of the two is the reference (model.md section 6), except that a CC branch
whose largest doubles amplitude exceeds T2_MAX (a multireference situation, e.g.
RHF-CCSD(T) of stretched H-F, which turns over below the true curve) loses to an
unflagged branch. A branch whose SCF or CC does not converge is left out (NaN) with a
warning; a point where both fail raises ConvergenceError naming molecule, R and branches.

Energies in hartree, distances in bohr, dipoles in e·bohr (a.u.) along A->B (A at the
origin, B at +z):
mu = sum_i Z_i z_i - int rho(r) z dr, from the CCSD unrelaxed 1-RDM for CC levels and
from the SCF density for HF/DFT levels.
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import __version__ as ECTEM_VERSION
from ..elements import atomic_number, n_core_orbitals
from ..errors import ConvergenceError, EctemError, InputError
from ..io import canonical_hash, provenance, read_json, write_csv, write_json, write_npz
from ..qm.level import Level, load_basis
from ..qm.scf import GUIDED_ATTEMPTS, apply_attempt, converge
from .diatomics import Diatomic

SCHEMA_VERSION = 1
CSV_COLUMNS = ("r_bohr", "energy_ref_hartree", "energy_ionic_hartree", "energy_bs_hartree",
               "scf_ionic_hartree", "scf_bs_hartree", "branch", "binding_ref_hartree",
               "dipole_ref_au", "wall_s")
BRANCH_TOL_HARTREE = 1e-7   # |E_ionic - E_bs| below this: the two branches are one solution
# A CC branch with a doubles amplitude above this is multireference (e.g. RHF-CCSD(T) of a
# stretched covalent bond, which turns over below the true curve): it may be the reference
# only if the other branch is flagged too. Two active electrons (CCSD = FCI) are never flagged.
T2_MAX = 0.3
# A sign change of E_ionic - E_bs counts as a crossing only if |dE| >= this at both
# neighbouring points: smaller differences come from the different frozen-core orbitals of
# the two references (LiH: 2 active electrons, both branches FCI in their own core, ~1e-5 apart).
CROSSING_TOL_HARTREE = 1e-5


# ----------------------------------------------------------------------------- helpers

def _check_level(level: Level) -> Level:
    if not isinstance(level, Level):
        raise InputError(f"level must be an ectem_core.qm.level.Level, not {type(level).__name__}")
    if level.occupations != "integer":
        raise InputError("molecular references need occupations 'integer' (fractional spherical "
                         "occupations are for free atoms only)")
    return level


def _n_core(symbols, level: Level) -> int:
    if not (level.correlated and level.frozen_core):
        return 0
    return sum(n_core_orbitals(s) for s in symbols)


def build_mole(mol: Diatomic, R: float, level: Level, spin: int = 0, charge: int = 0):
    """PySCF Mole of the diatomic: A at the origin, B at (0, 0, R) bohr; no symmetry."""
    from pyscf import gto

    a, b = mol.symbols
    basis = {s: load_basis(level.basis, s) for s in {a, b}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gto.M(atom=[[a, (0.0, 0.0, 0.0)], [b, (0.0, 0.0, float(R))]], basis=basis, unit="Bohr",
                     spin=spin, charge=charge, verbose=0, symmetry=False)


def _atom_mole(symbol: str, level: Level, charge: int = 0, spin: int | None = None):
    from pyscf import gto

    from ..elements import multiplicity

    n = atomic_number(symbol) - charge
    spin = multiplicity(n, atomic_number(symbol)) - 1 if spin is None else spin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gto.M(atom=[[symbol, (0.0, 0.0, 0.0)]], basis={symbol: load_basis(level.basis, symbol)},
                     unit="Bohr", spin=spin, charge=charge, verbose=0, symmetry=False)


def _scf_factory(mole, kind: str, level: Level):
    """make(attempt) -> kind 'r' (RHF/RKS) or 'u' (UHF/UKS) at `level`, on one rung of qm.scf."""
    from pyscf import dft, scf

    def make(attempt: str):
        if level.is_dft:
            mf = (dft.RKS if kind == "r" else dft.UKS)(mole)
            mf.xc = level.xc
            mf.grids.level = min(level.grid_level, 5)
        else:
            mf = (scf.RHF if kind == "r" else scf.UHF)(mole)
        mf.conv_tol = level.conv_tol
        mf.max_cycle = level.max_cycle
        mf.verbose = 0
        return apply_attempt(mf, attempt, level.max_cycle)
    return make


def _converge(make, dm0, what: str):
    """The SCF ladder of qm.scf from dm0 (GUIDED_ATTEMPTS: the guess picks the branch, so no
    atomic-guess rung); ConvergenceError naming `what` when every rung fails."""
    return converge(make, f"{what}: SCF", dm0=dm0, attempts=GUIDED_ATTEMPTS,
                    hint="raise scf.max_cycle, loosen scf.conv_tol or drop this distance "
                         "from the grid")[0]


def _follow_stability(mf, make, what: str, max_steps: int = 4):
    """Follow internal UHF instabilities down to a stable solution (HF only)."""
    from pyscf.scf import uhf

    if not isinstance(mf, uhf.UHF) or getattr(mf, "xc", None) is not None:
        return mf, True
    for _ in range(max_steps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                mo_i, _, stable, _ = mf.stability(internal=True, external=False, return_status=True)
            except ZeroDivisionError:   # PySCF's Davidson sizing fails for minimal bases (H2/STO-3G)
                return mf, True
        if stable:
            return mf, True
        dm1 = mf.make_rdm1(mo_i, mf.mo_occ)
        e_old = mf.e_tot
        mf = _converge(make, dm1, what + " (following instability)")
        if mf.e_tot > e_old - 1e-9:
            return mf, False
    return mf, False


# ----------------------------------------------------------------------------- atoms

@lru_cache(maxsize=64)
def _atom_scf(symbol: str, level: Level, charge: int = 0):
    """Converged UHF/UKS of a free atom or ion (no symmetry), cached per level."""
    mole = _atom_mole(symbol, level, charge)
    make = _scf_factory(mole, "u", level)
    what = f"atom {symbol}{charge:+d} at {level.label()}" if charge else f"atom {symbol} at {level.label()}"
    mf = _converge(make, None, what)
    mf, _ = _follow_stability(mf, make, what)
    return mf


def _cc(mf, level: Level, ncore: int, what: str):
    """CCSD (+(T)) on a converged SCF with `ncore` frozen orbitals -> (cc object | None, e_corr, e_t)."""
    from pyscf import cc

    n_active = mf.mol.nelectron - 2 * ncore
    if n_active <= 1:
        return None, 0.0, 0.0
    mycc = cc.CCSD(mf, frozen=ncore if ncore else None)
    # energy change < 1e-8 Ha and amplitude step < 1e-5: at stretched geometries a broken-symmetry
    # reference has a nearly free singlet/triplet-mixing direction in which the amplitudes drift
    # by ~1e-6 per step while the energy stays fixed to 1e-13 (PySCF's default 1e-6 never passes)
    mycc.conv_tol = 1e-8
    mycc.conv_tol_normt = 1e-5
    mycc.diis_space = 10
    mycc.max_cycle = 200
    mycc.verbose = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mycc.kernel()
            if not mycc.converged:
                # damped DIIS from where it stopped (no level shift: it shrinks the steps and so
                # fakes convergence of PySCF's step-size test)
                mycc.diis_space = 16
                mycc.iterative_damping = 0.5
                mycc.kernel(mycc.t1, mycc.t2)
        except (np.linalg.LinAlgError, AttributeError, FloatingPointError) as exc:  # singular DIIS
            raise ConvergenceError(f"{what}: CCSD failed ({type(exc).__name__}: {exc})") from None
    if not mycc.converged:
        raise ConvergenceError(f"{what}: CCSD did not converge in {2 * mycc.max_cycle} iterations")
    if mycc.e_corr > 0:
        raise ConvergenceError(f"{what}: CCSD converged to an unphysical root (correlation energy "
                               f"{mycc.e_corr:+.6f} Ha > 0)")
    e_t = float(mycc.ccsd_t()) if level.method == "ccsd(t)" else 0.0
    return mycc, float(mycc.e_corr), e_t


def _max_abs(t) -> float:
    parts = t if isinstance(t, (tuple, list)) else [t]
    return max(float(np.abs(np.asarray(x)).max()) if np.size(x) else 0.0 for x in parts)


def _energy_at_level(mf, level: Level, ncore: int, what: str) -> dict:
    out = {"scf": float(mf.e_tot), "energy": float(mf.e_tot), "cc": None, "mf": mf, "max_t2": None,
           "multireference": False}
    if level.correlated:
        mycc, e_corr, e_t = _cc(mf, level, ncore, what)
        out.update(energy=float(mf.e_tot) + e_corr + e_t, cc=mycc, e_corr=e_corr, e_t=e_t)
        if mycc is not None:
            out["max_t2"] = _max_abs(mycc.t2)
            n_active = mf.mol.nelectron - 2 * ncore
            out["multireference"] = bool(n_active > 2 and out["max_t2"] > T2_MAX)
    return out


def atom_energy(symbol: str, level: Level, charge: int = 0) -> float:
    """E of a free atom/ion at `level`: UHF -> UCCSD(T) (frozen core as the level says)."""
    level = _check_level(level)
    mf = _atom_scf(symbol, level, charge)
    ncore = n_core_orbitals(symbol) if (level.correlated and level.frozen_core) else 0
    tag = f"atom {symbol}{charge:+d}" if charge else f"atom {symbol}"
    return _energy_at_level(mf, level, ncore, f"{tag} at {level.label()}")["energy"]


def atoms_reference(mol: Diatomic, level: Level) -> dict:
    """E(A) + E(B) of the free neutral ground-state atoms at `level`: the dissociation limit."""
    a, b = mol.symbols
    ea = atom_energy(a, level)
    eb = ea if b == a else atom_energy(b, level)
    return {"A": ea, "B": eb, "sum": ea + eb}


# ----------------------------------------------------------------------------- one distance

def fragment_guess(mole, mol: Diatomic, level: Level) -> np.ndarray:
    """(dm_alpha, dm_beta) block-diagonal guess from the free atoms' UHF densities.

    The atom with the larger 2S keeps its spins, the other one is spin-flipped, so the
    guess has 2S_z = |S_A - S_B|·2 (0 for H2, LiH, HF, LiF, ...)."""
    nao = mole.nao_nr()
    dma, dmb = np.zeros((nao, nao)), np.zeros((nao, nao))
    up = 0 if mol.spins[0] >= mol.spins[1] else 1
    slices = mole.aoslice_by_atom()
    for i, sym in enumerate(mol.symbols):
        da, db = _atom_scf(sym, level).make_rdm1()
        if i != up:
            da, db = db, da
        p0, p1 = slices[i][2], slices[i][3]
        dma[p0:p1, p0:p1] = da
        dmb[p0:p1, p0:p1] = db
    return np.array([dma, dmb])


def _spin_summed_dm(res: dict) -> tuple[np.ndarray, str]:
    """AO 1-RDM (spin-summed) of a branch result: CCSD unrelaxed for CC levels, else SCF."""
    mycc, mf = res["cc"], res["mf"]
    if mycc is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mycc.solve_lambda()
            dm = mycc.make_rdm1(ao_repr=True)
        source = "ccsd-unrelaxed-1rdm"
    else:
        dm = mf.make_rdm1()
        source = "scf" if not res.get("correlated") else "scf (<=1 active electron: exact in the frozen core)"
    dm = np.asarray(dm)
    if dm.ndim == 3:
        dm = dm[0] + dm[1]
    return dm, source


def dipole_z(mole, dm: np.ndarray) -> float:
    """mu_z = sum Z z - tr(dm z) (a.u.), origin at atom A."""
    with mole.with_common_orig((0.0, 0.0, 0.0)):
        z = mole.intor_symmetric("int1e_r", comp=3)[2]
    nuc = float(np.dot(mole.atom_charges(), mole.atom_coords()[:, 2]))
    return nuc - float(np.einsum("ij,ji->", dm, z))


def reference_point(mol: Diatomic, R: float, level: Level) -> dict:
    """Both branches at one distance R (bohr); the lower is the reference.

    Returns r_bohr, energy_ref/ionic/bs_hartree, scf_ionic/bs_hartree, branch ('ionic' |
    'bs'), dipole_ref_au, dipole_source, s2_bs (<S^2> of the UHF), bs_stable, wall_s and
    'density': {'mol': Mole.dumps(), 'dm': spin-summed AO 1-RDM of the lower branch}."""
    level = _check_level(level)
    R = float(R)
    if not (math.isfinite(R) and R > 0.1):
        raise InputError(f"{mol.name}: distance R = {R} bohr is not a positive distance (> 0.1 bohr)")
    t0 = time.perf_counter()
    ncore = _n_core(mol.symbols, level)
    tag = f"{mol.name} at R = {R:.4f} bohr ({level.label()})"
    if (mol.n_electrons - mol.spin) % 2:
        raise InputError(f"{mol.name}: 2S = {mol.spin} does not match its {mol.n_electrons} electrons (parity)")

    # ionic / molecular branch: RHF for a singlet ground state, UHF at the ground-state spin otherwise
    mole_r = build_mole(mol, R, level, spin=mol.spin)
    make_r = _scf_factory(mole_r, "r" if mol.spin == 0 else "u", level)
    what_r = (f"{tag}, branch ionic (RHF -> CC)" if mol.spin == 0
              else f"{tag}, branch ionic (UHF at 2S = {mol.spin} -> UCC)")
    failed, scf = {}, {"ionic": float("nan"), "bs": float("nan")}
    try:
        mf_r = _converge(make_r, None, what_r)
        scf["ionic"] = float(mf_r.e_tot)
        ionic = _energy_at_level(mf_r, level, ncore, what_r)
    except ConvergenceError as exc:
        failed["ionic"], ionic = str(exc), None

    # fragment broken-symmetry branch
    spin_bs = abs(mol.spins[0] - mol.spins[1])
    mole_u = build_mole(mol, R, level, spin=spin_bs)
    make_u = _scf_factory(mole_u, "u", level)
    what_u = f"{tag}, branch bs (UHF from atomic fragments -> UCC)"
    stable, s2 = None, None
    try:
        mf_u = _converge(make_u, fragment_guess(mole_u, mol, level), what_u)
        mf_u, stable = _follow_stability(mf_u, make_u, what_u)
        s2 = float(mf_u.spin_square()[0])
        scf["bs"] = float(mf_u.e_tot)
        bs = _energy_at_level(mf_u, level, ncore, what_u)
    except ConvergenceError as exc:
        failed["bs"], bs = str(exc), None

    if ionic is None and bs is None:
        raise ConvergenceError(f"{mol.name} at R = {R:.4f} bohr: both branches failed: "
                               f"{failed['ionic']}; {failed['bs']}")
    # within BRANCH_TOL the two are one solution (UHF collapsed onto RHF): call it ionic.
    # A multireference-flagged branch loses to an unflagged one whatever its energy.
    if bs is None:
        branch = "ionic"
    elif ionic is None:
        branch = "bs"
    elif ionic["multireference"] != bs["multireference"]:
        branch = "bs" if ionic["multireference"] else "ionic"
    else:
        branch = "bs" if bs["energy"] < ionic["energy"] - BRANCH_TOL_HARTREE else "ionic"
    low = ionic if branch == "ionic" else bs
    low["correlated"] = level.correlated
    dm, source = _spin_summed_dm(low)
    mole = mole_r if branch == "ionic" else mole_u
    nan = float("nan")
    return {
        "r_bohr": R, "energy_ref_hartree": low["energy"],
        "energy_ionic_hartree": ionic["energy"] if ionic else nan, "energy_bs_hartree": bs["energy"] if bs else nan,
        "scf_ionic_hartree": scf["ionic"], "scf_bs_hartree": scf["bs"],
        "branch": branch, "dipole_ref_au": dipole_z(mole, dm), "dipole_source": source,
        "s2_bs": s2, "bs_stable": stable, "failed_branches": failed, "frozen_core_orbitals": ncore,
        "max_t2_ionic": ionic["max_t2"] if ionic else None, "max_t2_bs": bs["max_t2"] if bs else None,
        "multireference_branches": [b for b, x in (("ionic", ionic), ("bs", bs)) if x and x["multireference"]],
        "wall_s": time.perf_counter() - t0,
        "density": {"mol": mole.dumps(), "dm": dm},
    }


# ----------------------------------------------------------------------------- curve analysis

def crossing_distance(r, e_ionic, e_bs, tol: float = CROSSING_TOL_HARTREE) -> float | None:
    """Largest R where dE = E_ionic - E_bs changes sign between two neighbouring grid points
    (linear interpolation); None if never.

    |dE| < tol counts as 'same solution' (no sign), so a UHF that collapses onto the RHF, or
    two references that differ only in their frozen core, do not produce a spurious crossing;
    a NaN (failed or flagged branch) breaks the pair."""
    r = np.asarray(r, float)
    d = np.asarray(e_ionic, float) - np.asarray(e_bs, float)
    found = None
    for i in range(len(r) - 1):
        a, b = d[i], d[i + 1]
        if math.isfinite(a) and math.isfinite(b) and abs(a) >= tol and abs(b) >= tol and a * b < 0:
            found = float(r[i] + (r[i + 1] - r[i]) * a / (a - b))
    return found


def re_estimate(r, e) -> tuple[float | None, float | None]:
    """(Re, E(Re)) from the parabola through the 3 lowest points; (None, None) if it has no
    minimum inside their range."""
    r = np.asarray(r, float)
    e = np.asarray(e, float)
    if len(r) < 3:
        return None, None
    k = np.sort(np.argsort(e)[:3])
    c2, c1, c0 = np.polyfit(r[k], e[k], 2)
    if c2 <= 0:
        return None, None
    x = -c1 / (2 * c2)
    if not (r[k].min() <= x <= r[k].max()):
        return None, None
    return float(x), float(c0 + c1 * x + c2 * x * x)


def _spline_minimum(r, e) -> float | None:
    """Minimum of a cubic spline through the curve (a check on the parabola's Re)."""
    from scipy.interpolate import CubicSpline
    from scipy.optimize import minimize_scalar

    r, e = np.asarray(r, float), np.asarray(e, float)
    i = int(np.argmin(e))
    if len(r) < 4 or i == 0 or i == len(r) - 1:
        return None
    res = minimize_scalar(CubicSpline(r, e), bounds=(r[i - 1], r[i + 1]), method="bounded")
    return float(res.x)


def _density_distances(density_rs, re_bohr: float | None, r_min: float) -> list[float]:
    out = []
    for item in density_rs:
        if isinstance(item, str):
            key = item.strip()
            if key not in ("Re", "2Re"):
                raise InputError(f"density point {item!r} unknown: use 'Re', '2Re' or a distance in bohr")
            if re_bohr is None:
                raise EctemError(f"density point {item!r} needs Re, but the reference curve has no minimum "
                                 "inside the grid; extend the grid to shorter R")
            out.append(re_bohr if key == "Re" else 2.0 * re_bohr)
        else:
            try:
                x = float(item)
            except (TypeError, ValueError):
                raise InputError(f"density point {item!r} is neither 'Re', '2Re' nor a number") from None
            if not (math.isfinite(x) and x > 0.1):
                raise InputError(f"density point {item!r}: a distance must be a positive number of bohr")
            out.append(x)
    seen, uniq = set(), []
    for x in out:
        if round(x, 3) not in seen:
            seen.add(round(x, 3))
            uniq.append(x)
    return uniq


def _check_grid(r_grid) -> np.ndarray:
    try:
        r = np.asarray([float(x) for x in r_grid], float)
    except (TypeError, ValueError):
        raise InputError(f"r_grid {r_grid!r} must be a list of distances in bohr") from None
    if r.size < 3 or not np.all(np.isfinite(r)) or np.any(r <= 0.1) or np.any(np.diff(r) <= 0):
        raise InputError("r_grid must hold at least 3 increasing positive distances (bohr), e.g. "
                         "ectem_core.molecules.r_grid(mol)")
    return r


# ----------------------------------------------------------------------------- a whole curve

def _point_cache_key(mol: Diatomic, level: Level, R: float) -> str:
    return canonical_hash({"molecule": mol.to_dict(), "level": level.to_dict(), "r_bohr": round(R, 6),
                           "ectem": ECTEM_VERSION, "schema_version": SCHEMA_VERSION,
                           "rules": {"branch_tol": BRANCH_TOL_HARTREE, "t2_max": T2_MAX}})


DENSITY_KEYS = ("mol", "dm", "r_bohr", "branch", "energy_hartree", "symbols", "positions_bohr")


def read_density(path, required=DENSITY_KEYS) -> dict:
    """Read a `density_R{R:.3f}.npz` written by this stage: its arrays by key, with `mol`
    rebuilt as a pyscf Mole. InputError (one line) for a missing or unreadable file, a missing
    key from `required`, or a `mol` that is not a `mol.dumps()` string."""
    from pyscf import gto

    p = Path(path)
    if not p.is_file():
        raise InputError(f"density file {p} not found (it does not exist): run the molecules reference stage first")
    try:
        with np.load(p, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one input error
        raise InputError(f"{p} is not a readable .npz file ({exc.__class__.__name__}): regenerate it") from None
    missing = [k for k in required if k not in d]
    if missing:
        raise InputError(f"{p} lacks key(s) {', '.join(missing)}: a density file needs {', '.join(required)}")
    try:
        d["mol"] = gto.loads(str(d["mol"]))
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{p}: key 'mol' is not a pyscf mol.dumps() string ({exc.__class__.__name__})") from None
    return d


def _write_density(out_dir: Path, mol: Diatomic, res: dict) -> str:
    R = res["r_bohr"]
    name = f"density_R{R:.3f}.npz"
    write_npz(out_dir / name, mol=np.array(res["density"]["mol"]), dm=res["density"]["dm"],
              r_bohr=np.float64(R), branch=np.array(res["branch"]),
              energy_hartree=np.float64(res["energy_ref_hartree"]), symbols=np.array(mol.symbols),
              positions_bohr=np.array([[0.0, 0.0, 0.0], [0.0, 0.0, R]]))
    return name


def _public(res: dict) -> dict:
    """The JSON-safe part of a point result (no density; NaN -> None)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in res.items() if k != "density"}


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def run_molecule(mol: Diatomic, level: Level, r_grid, density_rs=("Re", "2Re", 20.0), out_dir=".",
                 progress: bool = True, multireference: bool = False) -> dict:
    """Reference curve of `mol` on `r_grid` (bohr) at `level`; writes reference.csv,
    reference.json and density_R{R:.3f}.npz (density_rs: 'Re', '2Re' or bohr) into out_dir.

    Each finished point is also kept in out_dir/points/R{R:.4f}.json (reused by a rerun
    with the same molecule, level and code version), so a failure at one R keeps the
    earlier points; reference.csv/json are only written once the whole curve is done.
    Returns the reference.json record."""
    level = _check_level(level)
    if multireference:
        raise InputError("multireference (SA-CASSCF/NEVPT2) curves are not implemented yet; "
                         "set molecules.multireference: false")
    r = _check_grid(r_grid)
    for item in density_rs:  # validate before any expensive work
        _density_distances([item], 1.0, 0.0)
    out_dir = Path(out_dir)
    t_start, cpu_start = time.perf_counter(), time.process_time()
    t0 = time.perf_counter()
    atoms = atoms_reference(mol, level)
    t_atoms = time.perf_counter() - t0
    rows, densities = [], {}
    t_points = time.perf_counter()
    for i_point, R in enumerate(r, 1):
        cache = out_dir / "points" / f"R{R:.4f}.json"
        key = _point_cache_key(mol, level, float(R))
        res = None
        if cache.exists():
            try:
                rec = read_json(cache, "point record")
                if rec.get("cache_key") == key:
                    res = rec["result"]
            except (InputError, KeyError):
                res = None
        if res is None:
            full = reference_point(mol, float(R), level)
            densities[round(float(R), 3)] = full
            res = _public(full)
            write_json(cache, {"schema_version": SCHEMA_VERSION, "cache_key": key, "result": res})
        res = dict(res)
        for k in ("energy_ionic_hartree", "energy_bs_hartree", "scf_ionic_hartree", "scf_bs_hartree"):
            res[k] = _nan(res[k])
        res["binding_ref_hartree"] = res["energy_ref_hartree"] - atoms["sum"]
        rows.append(res)
        if progress:
            elapsed = time.perf_counter() - t_points
            eta = elapsed / i_point * (len(r) - i_point)
            print(f"[molref] {mol.name} point {i_point}/{len(r)} (elapsed {elapsed:.0f} s, about {eta:.0f} s left)",
                  file=sys.stderr, flush=True)
            print(f"[molref] {mol.name} R={R:8.4f} bohr  E_ref={res['energy_ref_hartree']:.8f} ({res['branch']})  "
                  f"E_ionic-E_bs={res['energy_ionic_hartree'] - res['energy_bs_hartree']:+.2e}  "
                  f"binding={res['binding_ref_hartree']:+.6f}  {res['wall_s']:.1f} s", file=sys.stderr, flush=True)
            for b, msg in res.get("failed_branches", {}).items():
                print(f"[molref]   warning: branch {b} left out at R={R:.4f}: {msg}", file=sys.stderr, flush=True)

    rr = [x["r_bohr"] for x in rows]
    e_ref = [x["energy_ref_hartree"] for x in rows]
    re_bohr, e_re = re_estimate(rr, e_ref)
    # the crossing of the two branches, leaving out multireference-flagged branch energies
    ok = [(x["energy_ionic_hartree"] if "ionic" not in x.get("multireference_branches", []) else float("nan"),
           x["energy_bs_hartree"] if "bs" not in x.get("multireference_branches", []) else float("nan"))
          for x in rows]
    cross = crossing_distance(rr, [a for a, _ in ok], [b for _, b in ok])

    density_files = []
    for R in _density_distances(density_rs, re_bohr, 0.0):
        full = densities.get(round(R, 3))
        if full is None:
            full = reference_point(mol, R, level)
            if progress:
                print(f"[molref] {mol.name} density point R={R:.4f} bohr ({full['branch']}) {full['wall_s']:.1f} s",
                      file=sys.stderr, flush=True)
        name = _write_density(out_dir, mol, full)
        density_files.append({"file": name, "r_bohr": full["r_bohr"], "branch": full["branch"],
                              "energy_hartree": full["energy_ref_hartree"], "dipole_au": full["dipole_ref_au"],
                              "dm_source": full["dipole_source"], "wall_s": full["wall_s"]})

    write_csv(out_dir / "reference.csv", CSV_COLUMNS, rows)
    from ..qm.pyscf_backend import versions

    record = {
        "format": "ectem-molref", "schema_version": SCHEMA_VERSION,
        "molecule": mol.name, "symbols": list(mol.symbols), "spec": mol.to_dict(),
        "level": {**level.to_dict(), "label": level.label()},
        "frozen_core_orbitals": _n_core(mol.symbols, level),
        "atoms": {"energy_A_hartree": atoms["A"], "energy_B_hartree": atoms["B"],
                  "energy_sum_hartree": atoms["sum"],
                  "method": "free atoms, UHF (no symmetry) -> UCCSD(T) at the same basis/frozen core"},
        "status": "ok",
        "branches": {"ionic": ("RHF (default guess) -> CCSD(T)" if mol.spin == 0 else
                               f"UHF at 2S = {mol.spin} (default guess) -> UCCSD(T)"),
                     "t2_max_multireference": T2_MAX,
                     "bs": "UHF from block-diagonal atomic UHF densities (B spin-flipped), "
                           "internal stability followed -> UCCSD(T)",
                     "same_solution_tol_hartree": BRANCH_TOL_HARTREE,
                     "crossing_tol_hartree": CROSSING_TOL_HARTREE},
        "crossing_bohr": cross,
        "re_bohr": re_bohr, "energy_re_hartree": e_re,
        "de_hartree": (atoms["sum"] - e_re) if e_re is not None else None,
        "re_method": "parabola through the 3 lowest reference points",
        "re_spline_bohr": _spline_minimum(rr, e_ref),
        "limit_deviation_hartree": rows[-1]["energy_ref_hartree"] - atoms["sum"],
        "r_max_bohr": rows[-1]["r_bohr"],
        "dipole_convention": "mu_z = sum Z z - int rho z, A at origin, B at +z (a.u.)",
        "dipole_source": rows[0]["dipole_source"],
        "points": [{k: x.get(k) for k in ("r_bohr", "branch", "s2_bs", "bs_stable", "failed_branches",
                                           "max_t2_ionic", "max_t2_bs", "multireference_branches",
                                           "dipole_source", "wall_s")} for x in rows],
        "density_points": density_files,
        "timings": {"atoms_s": t_atoms, "points_s": float(sum(x["wall_s"] for x in rows)),
                    "total_s": time.perf_counter() - t_start, "total_cpu_s": time.process_time() - cpu_start},
        "ectem_version": ECTEM_VERSION, "versions": versions(), "provenance": provenance(),
    }
    write_json(out_dir / "reference.json", record)
    return record


def write_unavailable(mol: Diatomic, level: Level, reason: str, out_dir) -> dict:
    """reference.json with status 'unavailable' and the reason, and a header-only reference.csv:
    the curve could not be made at `level` (no convergence on any branch, e.g. a multireference
    case). Downstream rules and the report show the reason instead of numbers."""
    out_dir = Path(out_dir)
    write_csv(out_dir / "reference.csv", CSV_COLUMNS, [])
    record = {"format": "ectem-molref", "schema_version": SCHEMA_VERSION, "status": "unavailable",
              "reason": str(reason), "molecule": mol.name, "symbols": list(mol.symbols), "spec": mol.to_dict(),
              "level": {**level.to_dict(), "label": level.label()}, "density_points": [],
              "ectem_version": ECTEM_VERSION, "provenance": provenance()}
    write_json(out_dir / "reference.json", record)
    return record


def is_unavailable(meta: dict) -> bool:
    return meta.get("status") == "unavailable"
