"""Psi4 backend: the same `compute_state` contract as the PySCF backend, computed by Psi4.

Psi4 is not on PyPI: Debian ships Psi4 1.3.2 for the system Python (`apt-get install psi4`),
conda-forge ships newer ones (envs/psi4.yaml). Psi4 therefore runs in a SUBPROCESS: the
generic driver `_psi4_driver.py` (standard library + psi4 only) is executed by path under
a Python that imports psi4, reads a JSON job and writes a JSON result plus Molden files in
a temporary directory that is also Psi4's scratch (PSI_SCRATCH) and is removed afterwards.

Which Python runs Psi4:
  ECTEM_PSI4_PYTHON      executable (default: this interpreter if it can import psi4, e.g.
                         in a conda env; otherwise /usr/bin/python3)
  ECTEM_PSI4_PYTHONPATH  directory holding the psi4 package (default with /usr/bin/python3:
                         Debian's multiarch dir, found as /usr/lib/*/psi4/__init__.py)
  ECTEM_PSI4_TIMEOUT     seconds per Psi4 run (default 21600)
  ECTEM_PSI4_MEMORY_MB   Psi4 memory (default 2000)
  ECTEM_PSI4_KEEP        1 = keep the job directory (its path goes into `notes`)

Equivalence with the PySCF backend (tested in tests/test_psi4.py):
  * basis: PySCF's own basis data for the element (`load_basis`) is written as a Psi4 G94
    block with spherical (puream) functions, so both programs use the same functions even
    where their basis libraries differ. The raw contraction coefficients refer to normalized
    primitives in both programs, which both renormalize the contracted function; general
    contractions are split into one shell per coefficient column (same AO order as PySCF).
  * reference: auto = RHF for closed shells, UHF for open shells and excited states, as in PySCF.
  * frozen core: `num_frozen_docc` = n_core_orbitals(symbol) (Psi4's `freeze_core true` is
    not used: its per-charge policy is not PySCF's frozen=n). States without valence
    electrons and one-active-electron states are handled exactly as in the PySCF backend.
  * thresholds: SCF e_convergence = level.conv_tol, d_convergence <= 1e-8, exact (PK)
    integrals; CC e_convergence 1e-10, r_convergence 1e-8.
  * density: Psi4 writes the SCF orbitals (and the CCSD natural orbitals) to Molden files;
    PySCF reads them (`pyscf.tools.molden.load`, which handles AO order and normalization)
    and evaluates ρ and ∇ρ. The Psi4 SCF energy is recomputed by PySCF from the Molden
    density as a check (`convergence.molden_scf_energy_error`).
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..atoms.radial import RadialGrid, sphericalize
from ..atoms.states import AtomState, irrep_occupations
from ..elements import n_core_orbitals
from ..errors import ConvergenceError, EctemError, InputError
from .level import Level, load_basis
from .pyscf_backend import (
    _hydrogen_n2,
    bare_nucleus_result,
    check_electron_count,
    default_density_level,
    density_function,
    levels_compatible,
)
from .pyscf_backend import versions as _pyscf_versions
from .result import AtomResult

DRIVER = Path(__file__).with_name("_psi4_driver.py")
D2H_IRREPS = ("Ag", "B1g", "B2g", "B3g", "Au", "B1u", "B2u", "B3u")  # Psi4's (Cotton) order
SHELL_LETTERS = "SPDFGHIKLM"
MAX_L = 4  # the Molden route (Psi4 writer, PySCF reader) covers s..g
SCF_ATTEMPTS = ("default", "sad", "damped_gwh", "soscf")
BASIS_NAME = "ectembasis"
MOLDEN_ENERGY_TOL = 1e-6
INSTALL_HINT = ("install it with `apt-get install psi4` (Debian/Ubuntu: Psi4 1.3.2 for /usr/bin/python3) or "
                "`conda env create -f envs/psi4.yaml` (Snakemake: --sdm conda), or point ECTEM_PSI4_PYTHON / "
                "ECTEM_PSI4_PYTHONPATH at a Python that imports psi4")


# ------------------------------------------------------------------ which Python runs Psi4

def _debian_psi4_dir() -> str | None:
    for pattern in ("/usr/lib/*/psi4/__init__.py", "/usr/lib/python3/dist-packages/psi4/__init__.py"):
        hits = sorted(glob.glob(pattern))
        if hits:
            return str(Path(hits[0]).parent.parent)
    return None


def psi4_environment() -> tuple[str, str | None]:
    """(python executable, PYTHONPATH or None) used to run Psi4 (see the module docstring)."""
    exe = os.environ.get("ECTEM_PSI4_PYTHON", "").strip()
    path = os.environ.get("ECTEM_PSI4_PYTHONPATH", "").strip() or None
    if exe:
        return exe, path
    if importlib.util.find_spec("psi4") is not None:
        return sys.executable, path
    return "/usr/bin/python3", path or _debian_psi4_dir()


def _subprocess_env(pythonpath: str | None, scratch: str | None, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    if scratch:
        env["PSI_SCRATCH"] = scratch
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    return env


def _missing(exe: str, pythonpath: str | None, reason: str) -> EctemError:
    where = f"{exe}" + (f" with PYTHONPATH={pythonpath}" if pythonpath else "")
    return EctemError(f"Psi4 is not available to {where} ({reason}): {INSTALL_HINT}")


@lru_cache(maxsize=8)
def _probe(exe: str, pythonpath: str | None) -> tuple[bool, str]:
    try:
        with tempfile.TemporaryDirectory(prefix="ectem-psi4-probe-") as tmp:  # psi4 leaves timer.dat in cwd
            out = subprocess.run([exe, "-c", "import psi4; print(psi4.__version__)"], capture_output=True, cwd=tmp,
                                 text=True, timeout=180, env=_subprocess_env(pythonpath, tmp, 1))
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if out.returncode != 0:
        lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
        return False, lines[-1] if lines else f"exit status {out.returncode}"
    return True, out.stdout.strip().splitlines()[-1]


def psi4_available() -> tuple[bool, str]:
    """(True, psi4 version) or (False, reason) for the configured Psi4 Python (cached)."""
    return _probe(*psi4_environment())


def require_psi4() -> str:
    """Psi4's version, or one EctemError saying how to install it."""
    exe, path = psi4_environment()
    ok, info = _probe(exe, path)
    if not ok:
        raise _missing(exe, path, info)
    return info


# ------------------------------------------------------------------------------ basis

def psi4_basis_block(basis: str, symbol: str, name: str = BASIS_NAME) -> str:
    """PySCF's basis data for `symbol` as a Psi4 basis block (G94 shells, spherical).

    PySCF format: [l, [exp, c1, c2, ...], ...] (optionally [l, kappa, [...], ...]); each
    coefficient column becomes one G94 shell with the same exponents, coefficients written
    unchanged (both programs read them as coefficients of normalized primitives)."""
    data = load_basis(basis, symbol)
    lines = [f"assign {name}", f"[{name}]", "spherical", "****", f"{symbol} 0"]
    for shell in data:
        l = int(shell[0])
        prims = [p for p in shell[1:] if not isinstance(p, (int, np.integer))]
        if l > MAX_L:
            raise InputError(f"basis {basis!r} has {'spdfghik'[l]} functions for {symbol}: the psi4 backend "
                             f"reads Psi4 densities through Molden files, which cover s-g only; use backend pyscf")
        ncol = len(prims[0]) - 1
        for k in range(1, ncol + 1):
            lines.append(f"{SHELL_LETTERS[l]} {len(prims)} 1.00")
            for p in prims:
                lines.append(f"  {float(p[0]):.17e}  {float(p[k]):.17e}")
    lines.append("****")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the job

def _check_level(level: Level) -> None:
    if level.is_dft:
        raise InputError(f"the psi4 backend runs hf, ccsd and ccsd(t), not DFT ({level.method}): use backend pyscf")
    if level.occupations != "integer":
        raise InputError("the psi4 backend supports integer occupations only (no spherical fractional "
                         "occupations): use backend pyscf")


def _reference(state: AtomState, level: Level) -> str:
    ref = level.reference
    if ref == "auto":
        ref = "rhf" if state.spin == 0 and state.kind != "excited" else "uhf"
    if ref == "rhf" and state.spin != 0:
        raise InputError(f"{state.state_id} is open-shell (2S={state.spin}): use reference uhf or rohf")
    return ref


def _occupations(state: AtomState, ref: str) -> tuple[list | None, list | None]:
    """Psi4 DOCC/SOCC per D2h irrep for an excited state (None: let the SCF choose)."""
    if state.kind != "excited":
        return None, None
    occ = irrep_occupations(state.configuration)
    docc, socc = [0] * 8, [0] * 8
    for irrep, (a, b) in occ.items():
        i = D2H_IRREPS.index(irrep)
        if ref == "rhf":
            if a != b:
                raise InputError(f"{state.state_id}: configuration {state.configuration!r} is open-shell; use uhf/rohf")
            docc[i] = a
        else:
            docc[i], socc[i] = b, a - b
    return docc, socc


def _cc_plan(state: AtomState, level: Level, density_method: str | None) -> tuple[list[dict], bool]:
    """CC tasks of one level (as in the PySCF backend) and whether the state has no valence electrons."""
    if not level.correlated:
        return [], False
    ncore = n_core_orbitals(state.symbol) if level.frozen_core else 0
    no_valence = bool(ncore) and state.n_electrons - 2 * ncore <= 0
    n_frozen = 0 if no_valence else ncore
    if state.n_electrons - 2 * n_frozen <= 1:  # one active electron: correlation is zero
        return [], no_valence
    want_density = density_method == "ccsd"
    # Open-shell CCSD densities come out wrong from Psi4 1.3.2 in D2h (beta blocks mis-sorted
    # between irreps); in C1 they are right, so such runs drop symmetry after the D2h SCF.
    c1 = want_density and _reference(state, level) != "rhf"
    return [{"name": "all_electron" if no_valence or not n_frozen else "frozen_core",
             "method": level.method, "n_frozen": n_frozen, "density": want_density, "c1": c1,
             "molden": "cc.molden"}], no_valence


def _run_psi4(state: AtomState, level: Level, tasks: list[dict], threads: int) -> tuple[dict, dict, str | None]:
    """Run the driver; returns (result, {name: Molden text}, kept directory or None)."""
    exe, pythonpath = psi4_environment()
    ref = _reference(state, level)
    docc, socc = _occupations(state, ref)
    timeout = float(os.environ.get("ECTEM_PSI4_TIMEOUT", "21600"))
    keep = os.environ.get("ECTEM_PSI4_KEEP", "") not in ("", "0")
    tmp = tempfile.mkdtemp(prefix=f"ectem-psi4-{state.state_id}-")
    try:
        job = {
            "result_path": os.path.join(tmp, "result.json"), "output_file": os.path.join(tmp, "psi4.out"),
            "scratch": tmp, "symbol": state.symbol, "charge": state.charge,
            "multiplicity": state.multiplicity, "basis_name": BASIS_NAME,
            "basis_block": psi4_basis_block(level.basis, state.symbol), "reference": ref,
            "docc": docc, "socc": socc, "e_convergence": level.conv_tol,
            "d_convergence": min(1e-8, float(np.sqrt(level.conv_tol)) * 1e-3), "maxiter": level.max_cycle,
            "attempts": list(SCF_ATTEMPTS), "scf_molden": os.path.join(tmp, "scf.molden"),
            "cc": [{**t, "molden": os.path.join(tmp, t["molden"])} for t in tasks],
            "cc_e_convergence": 1e-10, "cc_r_convergence": 1e-8, "cc_maxiter": 200,
            "threads": threads, "memory_mb": int(os.environ.get("ECTEM_PSI4_MEMORY_MB", "2000")),
        }
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w") as fh:
            json.dump(job, fh, indent=1)
        try:
            proc = subprocess.run([exe, str(DRIVER), job_path], cwd=tmp, capture_output=True, text=True,
                                  timeout=timeout, env=_subprocess_env(pythonpath, tmp, threads))
        except FileNotFoundError as exc:
            raise _missing(exe, pythonpath, f"{type(exc).__name__}: {exc.strerror}") from None
        except PermissionError as exc:
            raise _missing(exe, pythonpath, f"{type(exc).__name__}: {exc.strerror}") from None
        except subprocess.TimeoutExpired:
            raise EctemError(f"Psi4 run for {state.state_id} at {level.label()} exceeded {timeout:.0f} s; "
                             "raise ECTEM_PSI4_TIMEOUT or use a smaller basis") from None
        try:
            with open(job["result_path"]) as fh:
                res = json.load(fh)
        except (OSError, json.JSONDecodeError):
            err = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
            raise EctemError(f"Psi4 run for {state.state_id} at {level.label()} failed without a result "
                             f"(exit {proc.returncode}: {err[-1] if err else 'no message'})") from None
        if res["status"] == "no_psi4":
            raise _missing(exe, pythonpath, res.get("error", "import failed"))
        if res["status"] == "scf_not_converged":
            tried = res.get("scf_failed_attempts", [])
            raise ConvergenceError(
                f"Psi4 SCF for {state.state_id} at {level.label()} did not converge after {len(tried)} attempts "
                f"({'; '.join(tried)}); raise scf.max_cycle or loosen scf.conv_tol in the config, or try another basis")
        if res["status"] == "cc_failed":
            cls = ConvergenceError if "converge" in res.get("error", "").lower() else EctemError
            raise cls(f"Psi4 coupled cluster for {state.state_id} at {level.label()} failed: {res.get('error')}")
        if res["status"] != "ok":
            raise EctemError(f"Psi4 run for {state.state_id} at {level.label()} failed: {res.get('error')}")
        moldens = {"scf": Path(job["scf_molden"]).read_text()}
        for cc in res.get("cc", []):
            if cc.get("molden"):
                moldens[cc["name"]] = Path(cc["molden"]).read_text()
        return res, moldens, (tmp if keep else None)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------ Molden files

def molden_density(text: str):
    """(PySCF Mole, alpha AO density, beta AO density) from Molden text written by Psi4."""
    from pyscf.tools import molden

    with tempfile.NamedTemporaryFile("w", suffix=".molden", delete=False) as fh:
        fh.write(text)
        path = fh.name
    try:
        mol, _, coeff, occ, _, _ = molden.load(path)
    finally:
        os.unlink(path)
    if isinstance(coeff, tuple):
        dma = (coeff[0] * occ[0]) @ coeff[0].T
        dmb = (coeff[1] * occ[1]) @ coeff[1].T
    else:  # restricted: occupations 0/1/2 of spatial orbitals
        occ_a = np.minimum(occ, 1.0)
        dma = (coeff * occ_a) @ coeff.T
        dmb = (coeff * (occ - occ_a)) @ coeff.T
    return mol, dma, dmb


def scf_energy_from_density(mol, dma, dmb) -> float:
    """Hartree-Fock energy of spin densities (PySCF integrals; one atom: no nuclear repulsion)."""
    from pyscf import scf

    h = mol.intor("int1e_kin") + mol.intor("int1e_nuc")
    vj, vk = scf.hf.get_jk(mol, np.array([dma, dmb]), hermi=1)
    dm = dma + dmb
    return float(np.einsum("ij,ji->", dm, h) + 0.5 * np.einsum("ij,ji->", vj[0] + vj[1], dm)
                 - 0.5 * (np.einsum("ij,ji->", vk[0], dma) + np.einsum("ij,ji->", vk[1], dmb))
                 + mol.energy_nuc())


# --------------------------------------------------------------------------- the level

def versions(psi4_version: str | None = None) -> dict:
    v = dict(_pyscf_versions())
    v["psi4"] = psi4_version
    exe, path = psi4_environment()
    v["psi4_python"] = exe + (f" (PYTHONPATH={path})" if path else "")
    return v


def _run_level(state: AtomState, level: Level, density_method: str | None, threads: int) -> dict:
    """Psi4 SCF (+ CC) at one level: energy, components, AO density (PySCF Mole + matrix)."""
    tasks, no_valence = _cc_plan(state, level, density_method)
    res, moldens, kept = _run_psi4(state, level, tasks, threads)
    mol, dma, dmb = molden_density(moldens["scf"])
    dm_scf = dma + dmb
    e_scf = float(res["scf_energy"])
    e_check = scf_energy_from_density(mol, dma, dmb)
    if abs(e_check - e_scf) > MOLDEN_ENERGY_TOL:
        raise EctemError(f"{state.state_id} at {level.label()}: the Psi4 SCF density read back from Molden gives "
                         f"E = {e_check:.10f} Ha, Psi4 says {e_scf:.10f} Ha: basis or orbital transfer is wrong")
    kin = float(np.einsum("ij,ji->", dm_scf, mol.intor("int1e_kin")))
    nuc = float(np.einsum("ij,ji->", dm_scf, mol.intor("int1e_nuc")))
    components = {"scf": e_scf, "kinetic_scf": kin, "nuclear_attraction_scf": nuc,
                  "electron_repulsion_scf": e_scf - kin - nuc}
    convergence = {"scf_converged": True, "scf_attempt": res["scf_attempt"],
                   "scf_failed_attempts": res["scf_failed_attempts"], "scf_type": f"psi4 {_reference(state, level).upper()}",
                   "scf_iterations": res.get("scf_iterations"), "final_occupation": res.get("final_occupation"),
                   "molden_scf_energy_error": e_check - e_scf}
    notes = [f"Psi4 job directory kept: {kept}"] if kept else []
    extra = {}
    energy = e_scf
    dm = dm_scf if density_method == "hf" else None
    density_fallback = None
    if level.correlated:
        cc = res["cc"][0] if res.get("cc") else None
        if cc is None:
            e_corr, e_t = 0.0, 0.0
            cc_conv = {"cc_converged": True, "note": "<=1 active electron: correlation is zero"}
        else:
            e_corr, e_t = float(cc["ccsd_correlation"]), float(cc["triples"])
            if cc.get("n_frozen_psi4") != cc["n_frozen"]:
                raise EctemError(f"{state.state_id} at {level.label()}: Psi4 froze {cc.get('n_frozen_psi4')} core "
                                 f"orbitals, {cc['n_frozen']} were requested")
            cc_conv = {"cc_converged": True, "frozen_core_orbitals": cc["n_frozen"], "program": "psi4 ccenergy",
                       "cc_symmetry": cc.get("symmetry"), "cc_total_energy": cc["total_energy"]}
        if no_valence:
            notes.append(f"{state.state_id} has no valence electrons: frozen-core energy = SCF; "
                         "all-electron CC recorded as extra_energies.all_electron (for its own ionization energy)")
            extra["all_electron"] = e_scf + e_corr + e_t
            convergence["cc_all_electron"] = cc_conv
            components.update(ccsd_correlation=0.0, triples=0.0)
        else:
            energy = e_scf + e_corr + e_t
            components.update(ccsd_correlation=e_corr, triples=e_t)
            convergence["cc"] = cc_conv
        if density_method == "ccsd":
            if cc is None:
                dm = dm_scf  # one active electron: the SCF determinant is the CCSD wavefunction
            elif cc.get("molden"):
                mol, cca, ccb = molden_density(moldens[cc["name"]])
                dm = cca + ccb
                if no_valence:
                    notes.append("density from all-electron CCSD")
            else:
                density_fallback = (f"Psi4 {res.get('psi4_version')} could not give the CCSD one-particle density "
                                    f"({cc.get('density_error', 'no density')}); the SCF density is used instead")
                notes.append(density_fallback)
                dm = dm_scf
    return {"mol": mol, "dm": dm, "energy": float(energy), "components": components, "convergence": convergence,
            "notes": notes, "extra": extra, "psi4_version": res.get("psi4_version"),
            "density_fallback": density_fallback}


def compute_state(state: AtomState, energy_level: Level, density_level: Level | None = None,
                  grid: RadialGrid | None = None, n_angular: int = 302,
                  threads: int | None = None) -> AtomResult:
    """Energy at `energy_level` and sphericalized density at `density_level` of one state, by Psi4."""
    t0 = time.perf_counter()
    grid = grid or RadialGrid()
    density_level = default_density_level(density_level or energy_level)
    if state.kind == "bare":
        return bare_nucleus_result(state, energy_level, density_level, grid, t0)
    if state.kind == "analytic":
        return _hydrogen_n2(state, energy_level, density_level, grid, t0)
    _check_level(energy_level)
    _check_level(density_level)
    psi4_version = require_psi4()
    nthreads = int(threads) if threads else 1

    same_run = levels_compatible(energy_level, density_level)
    run = _run_level(state, energy_level, density_level.method if same_run else None, nthreads)
    notes = list(run["notes"])
    if same_run:
        drun, dens_conv = run, {}
    else:
        drun = _run_level(state, density_level, density_level.method, nthreads)
        dens_conv = {"density_run": drun["convergence"]}
        notes += drun["notes"]
    density_level_out = density_level.to_dict()
    if drun["density_fallback"]:
        density_level_out = {**density_level.with_(method="hf").to_dict(),
                             "requested_method": density_level.method, "fallback": drun["density_fallback"]}
    density = sphericalize(density_function(drun["mol"], drun["dm"]), grid, n_angular)
    check_electron_count(state, density)
    extra = dict(run["extra"])
    if state.n_electrons == 1 and state.kind == "ground":
        extra["exact_hydrogenic"] = -0.5 * state.Z**2
    notes.append("computed by Psi4 (subprocess); density evaluated by PySCF from Psi4's Molden orbitals")
    return AtomResult(
        state=state.to_dict(), energy_hartree=run["energy"], components=run["components"],
        energy_level=energy_level.to_dict(), density_level=density_level_out, density=density,
        convergence={**run["convergence"], **dens_conv}, wall_s=time.perf_counter() - t0,
        backend="psi4", versions=versions(run["psi4_version"] or psi4_version), extra_energies=extra, notes=notes,
    )
