"""PySCF backend: SCF (HF/DFT, integer or spherical fractional occupations), CCSD and
CCSD(T) energies with CCSD one-particle densities, Delta-SCF excited states with
occupations fixed by D2h symmetry, and Lebedev sphericalization of the density.

Energies in hartree, lengths in bohr.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from .. import __version__ as ECTEM_VERSION
from ..atoms.radial import RadialGrid, SphericalDensity, sphericalize
from ..atoms.states import AtomState, irrep_occupations
from ..elements import n_core_orbitals
from ..errors import ConvergenceError, EctemError, InputError
from .level import Level, load_basis
from .result import AtomResult
from .scf import ATTEMPTS, apply_attempt, converge


def versions() -> dict:
    import platform

    import pyscf

    return {"ectem": ECTEM_VERSION, "pyscf": pyscf.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def default_density_level(energy_level: Level) -> Level:
    """CCSD densities for CCSD(T) energies (no (T) density exists); otherwise the same level."""
    if energy_level.method == "ccsd(t)":
        return energy_level.with_(method="ccsd")
    return energy_level


def compute_state(state: AtomState, energy_level: Level, density_level: Level | None = None,
                  grid: RadialGrid | None = None, n_angular: int = 302,
                  threads: int | None = None) -> AtomResult:
    """Energy at `energy_level` and sphericalized density at `density_level` of one state."""
    from pyscf import lib

    t0 = time.perf_counter()
    grid = grid or RadialGrid()
    density_level = default_density_level(density_level or energy_level)  # no (T) density exists
    if threads:
        lib.num_threads(int(threads))
    if state.kind == "bare":
        return bare_nucleus_result(state, energy_level, density_level, grid, t0)
    if state.kind == "analytic":
        return _hydrogen_n2(state, energy_level, density_level, grid, t0)

    density_from_energy_run = levels_compatible(energy_level, density_level)
    run = _run_level(state, energy_level, density_method=density_level.method if density_from_energy_run else None)
    notes = list(run["notes"])
    if density_from_energy_run:
        mol, dm = run["mol"], run["dm"]
        dens_conv = {}
    else:
        drun = _run_level(state, density_level, density_method=density_level.method)
        mol, dm = drun["mol"], drun["dm"]
        dens_conv = {"density_run": drun["convergence"]}
        notes += drun["notes"]
    density = sphericalize(density_function(mol, dm), grid, n_angular)
    check_electron_count(state, density)
    extra = dict(run["extra"])
    if state.n_electrons == 1 and state.kind == "ground":
        extra["exact_hydrogenic"] = -0.5 * state.Z**2
    return AtomResult(
        state=state.to_dict(), energy_hartree=run["energy"], components=run["components"],
        energy_level=energy_level.to_dict(), density_level=density_level.to_dict(), density=density,
        convergence={**run["convergence"], **dens_conv}, wall_s=time.perf_counter() - t0,
        backend="pyscf", versions=versions(), extra_energies=extra, notes=notes,
    )


def levels_compatible(energy_level: Level, density_level: Level) -> bool:
    """Can the density come from the energy run (same basis/reference, method on its path)?"""
    same = (energy_level.basis == density_level.basis and energy_level.reference == density_level.reference
            and energy_level.occupations == density_level.occupations)
    if not same:
        return False
    if density_level.method == energy_level.method:
        return True
    chain = {"ccsd(t)": ("ccsd", "hf"), "ccsd": ("hf",)}
    ok = density_level.method in chain.get(energy_level.method, ())
    if ok and density_level.method == "ccsd":
        return density_level.frozen_core == energy_level.frozen_core
    return ok


def check_electron_count(state: AtomState, density: SphericalDensity) -> None:
    err = abs(density.n_integrated - state.n_electrons)
    if err > 1e-6:
        raise EctemError(
            f"{state.state_id}: sphericalized density integrates to {density.n_integrated:.8f}, "
            f"not {state.n_electrons} (error {err:.1e}); enlarge the radial grid (r_max, n_radial)"
        )


# --------------------------------------------------------------------------- molecules

def build_mol(state: AtomState, basis: str, symmetry: bool = True):
    """A one-atom PySCF Mole for `state` (bohr; D2h symmetry so occupations can be fixed)."""
    from pyscf import gto

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mol = gto.M(atom=[[state.symbol, (0.0, 0.0, 0.0)]], basis={state.symbol: load_basis(basis, state.symbol)},
                    charge=state.charge, spin=state.spin, unit="Bohr", verbose=0,
                    symmetry="D2h" if symmetry else False)
    return mol


def _make_scf(mol, state: AtomState, level: Level, attempt: str):
    from pyscf import dft, scf
    from pyscf.scf import atom_hf, atom_ks

    if level.occupations == "spherical":
        mf = atom_ks.AtomSphAverageRKS(mol) if level.is_dft else atom_hf.AtomSphAverageRHF(mol)
        mf.atomic_configuration = {state.Z: _electrons_per_l(state)}
        if level.is_dft:
            mf.xc = level.xc
    else:
        ref = level.reference
        if ref == "auto":
            ref = "rhf" if state.spin == 0 and state.kind != "excited" else "uhf"
        if ref == "rhf" and state.spin != 0:
            raise InputError(f"{state.state_id} is open-shell (2S={state.spin}): use reference uhf or rohf")
        if level.is_dft:
            cls = {"rhf": dft.RKS, "uhf": dft.UKS, "rohf": dft.ROKS}[ref]
            mf = cls(mol)
            mf.xc = level.xc
        else:
            cls = {"rhf": scf.RHF, "uhf": scf.UHF, "rohf": scf.ROHF}[ref]
            mf = cls(mol)
        pinned = pinned_configuration(state)
        if pinned:
            occ = irrep_occupations(pinned)
            mf.irrep_nelec = occ if ref != "rhf" else {k: a + b for k, (a, b) in occ.items()}
    if level.is_dft:
        mf.grids.level = level.grid_level
    mf.conv_tol = level.conv_tol
    mf.max_cycle = level.max_cycle
    mf.verbose = 0
    return apply_attempt(mf, attempt, level.max_cycle)


def pinned_configuration(state: AtomState) -> str | None:
    """The configuration whose D2h irrep occupations the SCF must keep: an excited state's own,
    and the NIST ground configuration of a 3d-block atom or ion (its 4s/3d split is otherwise
    left to the SCF, which lands Ni in 3d9 4s1; docs/model.md section 1). None: free SCF."""
    from ..elements import TRANSITION_METALS, ground_configuration

    if state.kind == "excited":
        return state.configuration
    if state.kind == "ground" and state.symbol in TRANSITION_METALS:
        return ground_configuration(state.n_electrons, state.Z)
    return None


def _electrons_per_l(state: AtomState) -> tuple:
    from ..elements import ground_configuration

    counts = [0, 0, 0, 0]
    for tok in ground_configuration(state.n_electrons, state.Z).split():
        counts["spdf".index(tok[1])] += int(tok[2:])
    return tuple(counts)


def l_populations(mol, dm) -> dict[str, float]:
    """Mulliken electron counts per angular momentum (s, p, d, f) of an AO density matrix."""
    pop = np.einsum("ij,ji->i", dm, mol.intor_symmetric("int1e_ovlp"))
    out = {"s": 0.0, "p": 0.0, "d": 0.0, "f": 0.0}
    for i, label in enumerate(mol.ao_labels(fmt=False)):
        letter = next((c for c in label[2] if c in "spdfg"), "s")
        out[letter if letter in out else "f"] += float(pop[i])
    return {k: round(v, 6) for k, v in out.items()}


def configuration_mismatch(state: AtomState, pops: dict[str, float], tol: float = 0.5) -> str | None:
    """A note when the SCF's d population differs from the intended configuration's d count by
    more than `tol` electrons (the SCF landed in another configuration, e.g. Ni 3d9 4s1 for 3d8 4s2)."""
    from ..elements import ground_configuration

    conf = state.configuration or ground_configuration(state.n_electrons, state.Z)
    want = sum(int(t[2:]) for t in conf.split() if t[1] == "d")
    got = pops.get("d", 0.0)
    if abs(got - want) > tol:
        return (f"{state.state_id}: the SCF has {got:.2f} d electrons (Mulliken), the intended configuration "
                f"{conf.split()[-2:]} has {want}: it converged to another configuration")
    return None


def run_scf(state: AtomState, level: Level):
    """Converged SCF for `state` with retries (DIIS; damping + level shift;
    superposition-of-atoms guess; second order). Raises ConvergenceError naming state and level if all fail.
    (Second order is skipped for fractional spherical occupations.)"""
    mol = build_mol(state, level.basis, symmetry=level.occupations != "spherical")
    attempts = tuple(a for a in ATTEMPTS if not (a == "second_order" and level.occupations == "spherical"))
    mf, attempt, tried = converge(lambda a: _make_scf(mol, state, level, a), f"SCF for {state.state_id} at {level.label()}",
                                  attempts=attempts, hint="raise scf.max_cycle or loosen scf.conv_tol in the config, "
                                                           "or try another basis")
    if level.occupations == "integer" and state.kind == "ground" and pinned_configuration(state):
        if configuration_mismatch(state, l_populations(mol, _scf_density(mf))):
            fixed = swap_to_configuration(mol, mf, state, level)
            if fixed is not None:
                mf, attempt = fixed, f"{attempt}+mom_4s_swap"
    return mol, mf, attempt, tried


def _s_and_d_character(mol, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mulliken s and d fractions of every MO (columns of c)."""
    labels = mol.ao_labels(fmt=False)
    is_d = np.array(["d" in lab[2] for lab in labels])
    is_s = np.array(["s" in lab[2] for lab in labels])
    pop = c * (mol.intor_symmetric("int1e_ovlp") @ c)
    return pop[is_s].sum(axis=0), pop[is_d].sum(axis=0)


def swap_to_configuration(mol, mf, state: AtomState, level: Level):
    """The 3d-block SCF with the intended 4s/3d split when D2h pinning cannot hold it (Mn 3d5 4s2,
    Fe 3d6 4s2 share one free Ag slot between 4s and 3d_z2): in one spin channel the highest
    d-like occupied orbital is emptied, the lowest s-like virtual filled, and the maximum-overlap
    method keeps that occupation to convergence. Returns the converged SCF whose Mulliken d count
    matches the configuration, or None (the caller keeps the first solution and its note)."""
    from pyscf import scf

    if np.ndim(mf.mo_occ) != 2:
        return None
    for spin in (1, 0):
        c, occ, e = mf.mo_coeff[spin], np.array(mf.mo_occ[spin]), mf.mo_energy[spin]
        s_char, d_char = _s_and_d_character(mol, c)
        occupied = [k for k in np.where(occ > 0)[0] if d_char[k] > 0.8]
        virtual = [k for k in np.where(occ == 0)[0] if s_char[k] > 0.6]
        if not occupied or not virtual:
            continue
        i = max(occupied, key=lambda k: e[k])
        a = min(virtual, key=lambda k: e[k])
        new_occ = [np.array(o, dtype=float) for o in mf.mo_occ]
        new_occ[spin][i], new_occ[spin][a] = 0.0, 1.0
        trial = scf.UHF(mol)
        trial.verbose, trial.conv_tol, trial.max_cycle = 0, level.conv_tol, level.max_cycle
        trial = scf.addons.mom_occ(trial, mf.mo_coeff, new_occ)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial.kernel(trial.make_rdm1(mf.mo_coeff, new_occ))
        if trial.converged and not configuration_mismatch(state, l_populations(mol, _scf_density(trial))):
            return trial
    return None


def _scf_density(mf) -> np.ndarray:
    dm = mf.make_rdm1()
    dm = np.asarray(dm)
    return dm[0] + dm[1] if dm.ndim == 3 else dm


def _run_level(state: AtomState, level: Level, density_method: str | None) -> dict:
    """SCF (+ CC) at one level; returns energy, components, AO density matrix (if asked)."""
    mol, mf, attempt, tried = run_scf(state, level)
    dm_scf = _scf_density(mf)
    e_scf = float(mf.e_tot)
    kin = float(np.einsum("ij,ji->", dm_scf, mol.intor("int1e_kin")))
    nuc = float(np.einsum("ij,ji->", dm_scf, mol.intor("int1e_nuc")))
    components = {"scf": e_scf, "kinetic_scf": kin, "nuclear_attraction_scf": nuc,
                  "electron_repulsion_scf": e_scf - kin - nuc}
    convergence = {"scf_converged": True, "scf_attempt": attempt, "scf_failed_attempts": tried,
                   "scf_type": type(mf).__name__}
    try:
        convergence["spin_square"] = float(mf.spin_square()[0])
    except Exception:  # fractional-occupation atoms have no spin_square
        pass
    notes, extra = [], {}
    convergence["l_populations_scf"] = l_populations(mol, dm_scf)
    mismatch = configuration_mismatch(state, convergence["l_populations_scf"])
    if mismatch:
        notes.append(mismatch)
    energy = e_scf
    dm = dm_scf if density_method == "hf" or (level.is_dft and density_method) else None
    if level.correlated:
        ncore = n_core_orbitals(state.symbol) if level.frozen_core else 0
        n_valence = state.n_electrons - 2 * ncore
        if ncore and n_valence <= 0:
            notes.append(f"{state.state_id} has no valence electrons: frozen-core energy = SCF; "
                         "all-electron CC recorded as extra_energies.all_electron (for its own ionization energy)")
            cc_ae = _run_cc(state, mf, level, 0, density_method)
            extra["all_electron"] = e_scf + cc_ae["e_corr"] + cc_ae["e_t"]
            convergence["cc_all_electron"] = cc_ae["convergence"]
            components.update(ccsd_correlation=0.0, triples=0.0)
            if density_method == "ccsd":
                dm = cc_ae["dm"]
                notes.append("density from all-electron CCSD")
        else:
            cc_out = _run_cc(state, mf, level, ncore, density_method)
            energy = e_scf + cc_out["e_corr"] + cc_out["e_t"]
            components.update(ccsd_correlation=cc_out["e_corr"], triples=cc_out["e_t"])
            convergence["cc"] = cc_out["convergence"]
            if density_method == "ccsd":
                dm = cc_out["dm"]
    return {"mol": mol, "energy": float(energy), "components": components, "dm": dm,
            "convergence": convergence, "notes": notes, "extra": extra}


def _run_cc(state: AtomState, mf, level: Level, ncore: int, density_method: str | None) -> dict:
    """CCSD (+(T)) on a converged SCF with `ncore` frozen orbitals; CCSD density if asked."""
    from pyscf import cc

    n_active = state.n_electrons - 2 * ncore
    want_t = level.method == "ccsd(t)"
    if n_active <= 1:
        # One active electron: the SCF determinant is exact within the frozen core.
        return {"e_corr": 0.0, "e_t": 0.0, "dm": _scf_density(mf) if density_method == "ccsd" else None,
                "convergence": {"cc_converged": True, "note": "<=1 active electron: correlation is zero"}}
    mycc = cc.CCSD(mf, frozen=ncore if ncore else None)
    mycc.conv_tol = 1e-9
    mycc.max_cycle = 200
    mycc.verbose = 0
    mycc.kernel()
    if not mycc.converged:
        mycc.diis_space = 12
        mycc.level_shift = 0.3
        mycc.kernel(mycc.t1, mycc.t2)
    if not mycc.converged:
        raise ConvergenceError(f"CCSD for {state.state_id} at {level.label()} did not converge; try another basis")
    e_t = float(mycc.ccsd_t()) if want_t else 0.0
    dm = None
    if density_method == "ccsd":
        mycc.solve_lambda()
        dm_mo = mycc.make_rdm1()
        if isinstance(dm_mo, tuple) or (np.ndim(dm_mo) == 3):
            # UHF: two coefficient sets; ROHF (converted to UCCSD): one set for both spins
            ca, cb = (mf.mo_coeff, mf.mo_coeff) if np.ndim(mf.mo_coeff) == 2 else mf.mo_coeff
            dm = ca @ dm_mo[0] @ ca.T + cb @ dm_mo[1] @ cb.T
        else:
            c = mf.mo_coeff
            dm = c @ dm_mo @ c.T
    return {"e_corr": float(mycc.e_corr), "e_t": e_t, "dm": dm,
            "convergence": {"cc_converged": True, "frozen_core_orbitals": ncore}}


def density_function(mol, dm):
    from pyscf.dft import numint

    def f(points):
        ao = mol.eval_gto("GTOval_sph_deriv1", points)
        rho = numint.eval_rho(mol, ao, dm, xctype="GGA")
        return rho[0], np.ascontiguousarray(rho[1:4].T)

    return f


# ------------------------------------------------------------------- exact special states

def bare_nucleus_result(state, energy_level, density_level, grid, t0) -> AtomResult:
    r = grid.r
    dens = SphericalDensity(r, np.zeros_like(r), np.zeros_like(r), 0.0, 0.0, 0.0)
    return AtomResult(
        state=state.to_dict(), energy_hartree=0.0, components={"exact": 0.0},
        energy_level={"method": "exact", "basis": None}, density_level={"method": "exact", "basis": None},
        density=dens, convergence={"exact": True}, wall_s=time.perf_counter() - t0, backend="exact",
        versions=versions(), notes=["bare nucleus: no electrons, energy 0, density 0 (exact)"],
    )


def hydrogen_n2_density(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spherical ensemble density of hydrogen n=2, ¼ρ_2s + ¾ρ̄_2p = e^{-r}[(2-r)² + r²]/(128π),
    and its radial derivative (bohr^-3, bohr^-4)."""
    poly = (2.0 - r) ** 2 + r**2
    dpoly = -2.0 * (2.0 - r) + 2.0 * r
    e = np.exp(-r) / (128.0 * np.pi)
    return e * poly, e * (dpoly - poly)


def _hydrogen_n2(state, energy_level, density_level, grid, t0) -> AtomResult:
    r = grid.r
    rho, drho = hydrogen_n2_density(r)
    rho0 = float(hydrogen_n2_density(np.zeros(1))[0][0])
    n_int = grid.integrate(4 * np.pi * r**2 * rho, 4 * np.pi * rho0)
    dens = SphericalDensity(r, rho, drho, rho0, 0.0, n_int)
    return AtomResult(
        state=state.to_dict(), energy_hartree=-0.125, components={"exact": -0.125},
        energy_level={"method": "exact", "basis": None}, density_level={"method": "exact", "basis": None},
        density=dens, convergence={"exact": True}, wall_s=time.perf_counter() - t0, backend="exact",
        versions=versions(), notes=["hydrogen n=2: exact E = -1/8 Ha, density ¼ρ_2s + ¾ρ_2p (spherical average)"],
    )
