"""Stage 1: compute atomic states, write their records, and derive IP/EA/excitation
energies and exclusions per element.

Files (all written atomically):
  raw/{state}.json   one state's energy + provenance, as computed (no derived quantities)
  {state}.npz        r_bohr, rho, drho_dr, rdf (4πr²ρ̄) on the radial grid
  {state}.json       the raw record + derived energies + status ('ok', 'exact', 'excluded')
  manifest.json      every state of the element with status and reason
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import SCHEMA_VERSION, elements
from .errors import InputError
from .io import canonical_hash, provenance, read_json, write_json, write_npz
from .qm.level import Level
from .qm.result import AtomResult
from .radial import RadialGrid
from .states import AtomState, default_states, make_state

EV = elements.HARTREE_EV


@dataclass(frozen=True)
class AtomsSettings:
    """What stage 1 needs from the config."""

    energy_level: Level
    density_level: Level
    grid: RadialGrid = field(default_factory=RadialGrid)
    n_angular: int = 302
    backend: str = "pyscf"
    threads: int | None = None
    anions: bool = True
    excited: dict = field(default_factory=dict)
    use_builtin_excited: bool = True
    exact_one_electron: bool = True
    excitation_tolerance_ev: float = 0.5

    def states(self, symbol: str) -> list[AtomState]:
        return default_states(symbol, anions=self.anions, excited=self.excited.get(symbol, []),
                              use_builtin_excited=self.use_builtin_excited)

    def input_hash(self, state: AtomState) -> str:
        return canonical_hash({
            "state": state.to_dict(), "energy_level": self.energy_level.to_dict(),
            "density_level": self.density_level.to_dict(),
            "grid": [self.grid.r_min, self.grid.r_max, self.grid.n], "n_angular": self.n_angular,
            "backend": self.backend, "schema_version": SCHEMA_VERSION,
        })


def settings_from_config(config: dict) -> AtomsSettings:
    """Build AtomsSettings from a validated config dict (see config/schema.yaml)."""
    lv = config.get("levels", {})
    scf = config.get("scf", {})
    e = dict(lv.get("energy", {}))
    d = dict(lv.get("density", {})) or None
    common = {"conv_tol": float(scf.get("conv_tol", 1e-10)), "max_cycle": int(scf.get("max_cycle", 200))}
    energy = Level(**{**common, **e})
    if d:
        density = Level(**{**common, **{"basis": energy.basis, "frozen_core": energy.frozen_core}, **d})
    else:
        from .qm.pyscf_backend import default_density_level

        density = default_density_level(energy)
    g = config.get("grid", {})
    st = config.get("states", {})
    return AtomsSettings(
        energy_level=energy, density_level=density,
        grid=RadialGrid(float(g.get("r_min_bohr", 1e-4)), float(g.get("r_max_bohr", 40.0)), int(g.get("n_radial", 1201))),
        n_angular=int(g.get("lebedev_points", 302)), backend=config.get("backend", "pyscf"),
        threads=config.get("threads"), anions=bool(st.get("anions", True)),
        excited=dict(st.get("excited", {}) or {}), use_builtin_excited=bool(st.get("builtin_excited", True)),
        exact_one_electron=bool(st.get("exact_one_electron", True)),
        excitation_tolerance_ev=float(st.get("excitation_tolerance_eV", 0.5)),
    )


def compute(state: AtomState, settings: AtomsSettings) -> AtomResult:
    """Run one state with the configured backend."""
    if settings.backend == "pyscf":
        from .qm.pyscf_backend import compute_state
    elif settings.backend == "psi4":
        from .qm.psi4_backend import compute_state  # type: ignore[no-redef]
    else:
        raise InputError(f"unknown backend {settings.backend!r}: use pyscf or psi4")
    return compute_state(state, settings.energy_level, settings.density_level, settings.grid,
                         settings.n_angular, settings.threads)


def raw_record(result: AtomResult, input_hash: str) -> dict:
    """The per-state JSON record (without derived quantities)."""
    d = result.density
    return {
        "schema_version": SCHEMA_VERSION, **result.state,
        "energy_hartree": result.energy_hartree, "energy_components": result.components,
        "extra_energies": result.extra_energies, "level_energy": result.energy_level,
        "level_density": result.density_level, "backend": result.backend,
        "rho0": d.rho0 if d is not None else 0.0, "n_integrated": d.n_integrated if d is not None else 0.0,
        "anisotropy": d.anisotropy if d is not None else 0.0,
        "radial_grid": {"r_min_bohr": float(d.r[0]), "r_max_bohr": float(d.r[-1]), "n": int(len(d.r))} if d is not None else None,
        "convergence": result.convergence, "wall_s": result.wall_s, "versions": result.versions,
        "notes": result.notes, "input_hash": input_hash, **provenance(),
    }


def run_state_to_files(state: AtomState, settings: AtomsSettings, raw_json: Path, npz: Path) -> dict:
    """Compute one state and write raw/{state}.json and {state}.npz (both atomic; nothing is
    written if the calculation fails)."""
    result = compute(state, settings)
    rec = raw_record(result, settings.input_hash(state))
    d = result.density
    write_npz(npz, r_bohr=d.r, rho=d.rho, drho_dr=d.drho, rdf=d.rdf)
    write_json(raw_json, rec)
    return rec


def _energy_used(rec: dict, exact_one_electron: bool, all_electron: bool = False) -> float:
    extra = rec.get("extra_energies", {})
    if exact_one_electron and "exact_hydrogenic" in extra:
        return float(extra["exact_hydrogenic"])
    if all_electron and "all_electron" in extra:
        return float(extra["all_electron"])
    return float(rec["energy_hartree"])


def derive_element(symbol: str, raw: dict[str, dict], settings: AtomsSettings) -> dict[str, dict]:
    """Derived energies and status for every state of one element.

    raw: state_id -> raw record. Returns state_id -> final record. Rules:
    ionization energy I_s of each state (the fits' decay constant needs it): neutral and
    excited states E(+1) − E_s; cations E(+k+1) − E(+k) (all-electron energies where the
    next ionization removes a frozen-core electron); anions EA = E(0) − E(−1).
    An anion with EA <= 0 at the energy level is excluded (reason recorded); an excited
    state whose excitation energy misses the expected value by more than the tolerance is
    excluded (Delta-SCF landed on another state)."""
    x1 = settings.exact_one_electron
    by_charge = {r["charge"]: r for r in raw.values() if not r.get("label")}
    if 0 not in by_charge:
        raise InputError(f"{symbol}: the neutral ground state is missing from the raw results")
    e0 = _energy_used(by_charge[0], x1)
    ip_exp = elements.experimental_ip_ev(symbol)
    ea_exp = elements.experimental_ea_ev(symbol)
    out = {}
    for sid, rec in raw.items():
        final = dict(rec)
        q, label = rec["charge"], rec.get("label", "")
        e = _energy_used(rec, x1)
        final["energy_used_hartree"] = e
        final["delta_e_hartree"] = e - e0
        final["status"] = "exact" if rec.get("kind") in ("bare", "analytic") else "ok"
        final["reason"] = ""
        ion = None
        if label:
            if q + 1 in by_charge:
                ion = (by_charge[q + 1]["state_id"], _energy_used(by_charge[q + 1], x1) - e)
            exc = e - _energy_used(by_charge[q], x1) if q in by_charge else None
            final["excitation_energy_hartree"] = exc
            expected = _expected_excitation(symbol, q, label, settings)
            if exc is not None and expected is not None:
                final["excitation_check"] = {"expected_eV": expected, "computed_eV": exc * EV,
                                             "tolerance_eV": settings.excitation_tolerance_ev}
                if abs(exc * EV - expected) > settings.excitation_tolerance_ev:
                    final["status"] = "excluded"
                    final["reason"] = (f"excitation energy {exc * EV:.3f} eV is not the expected {expected:.3f} eV "
                                       f"(tolerance {settings.excitation_tolerance_ev} eV): the calculation landed on another state")
        elif q < 0:
            ea = _energy_used(by_charge[q + 1], x1) - e if q + 1 in by_charge else None
            ion = (by_charge[q + 1]["state_id"], ea) if ea is not None else None
            final["electron_affinity_of_parent_hartree"] = ea
            if ea is not None and ea <= 0.0:
                final["status"] = "excluded"
                final["reason"] = (f"anion unbound at {_level_label(rec)}: E({sid}) - E({by_charge[q + 1]['state_id']}) = "
                                   f"{-ea:+.6f} Ha (EA = {ea * EV:.3f} eV <= 0)")
        elif rec["n_electrons"] > 0 and q + 1 in by_charge:
            nxt = by_charge[q + 1]
            core_ionization = "all_electron" in rec.get("extra_energies", {})
            ion = (nxt["state_id"], _energy_used(nxt, x1, core_ionization) - _energy_used(rec, x1, core_ionization))
        if ion is not None:
            final["ionization_energy_hartree"] = ion[1]
            final["ionization_partner"] = ion[0]
        else:
            final["ionization_energy_hartree"] = None
            final["ionization_partner"] = None
        final["reference"] = _reference_values(rec, ip_exp, ea_exp)
        final["derived_eV"] = {k: (final[k] * EV if final.get(k) is not None else None) for k in
                               ("ionization_energy_hartree", "excitation_energy_hartree",
                                "electron_affinity_of_parent_hartree", "delta_e_hartree") if k in final}
        out[sid] = final
    # EA of the neutral, recorded on it too
    if -1 in by_charge and 0 in by_charge:
        out[by_charge[0]["state_id"]]["electron_affinity_hartree"] = e0 - _energy_used(by_charge[-1], x1)
    return out


def _level_label(rec: dict) -> str:
    lv = rec.get("level_energy", {})
    return f"{lv.get('method')}/{lv.get('basis')}"


def _expected_excitation(symbol, charge, label, settings: AtomsSettings):
    from .states import builtin_excited

    for spec in list(settings.excited.get(symbol, [])) + builtin_excited(symbol):
        if spec.get("label") == label and int(spec.get("charge", 0)) == charge:
            return spec.get("expected_excitation_eV")
    return None


def _reference_values(rec: dict, ip_exp: float, ea_exp: float | None) -> dict:
    ref = {}
    if rec["charge"] == 0 and not rec.get("label"):
        ref["ionization_energy_exp_eV"] = ip_exp
        ref["electron_affinity_exp_eV"] = ea_exp
    if rec["charge"] == -1 and not rec.get("label"):
        ref["electron_affinity_exp_eV"] = ea_exp
    return ref


def manifest_from_records(symbol: str, final: dict[str, dict], settings: AtomsSettings) -> dict:
    """The per-element manifest: every state with status, reason, role and energies."""
    manifest = {"schema_version": SCHEMA_VERSION, "symbol": symbol, "Z": elements.atomic_number(symbol),
                "level_energy": settings.energy_level.to_dict(), "level_density": settings.density_level.to_dict(),
                "states": [], **provenance()}
    for sid, rec in final.items():
        manifest["states"].append({"state_id": sid, "status": rec["status"], "reason": rec["reason"],
                                   "role": rec["role"], "charge": rec["charge"], "n_electrons": rec["n_electrons"],
                                   "energy_hartree": rec["energy_used_hartree"], "delta_e_hartree": rec["delta_e_hartree"]})
    return manifest


def _raw_records(paths) -> dict[str, dict]:
    return {Path(p).stem: read_json(p, "raw atom result") for p in paths}


def write_state_record(symbol: str, state_id: str, raw_paths, out_path, settings: AtomsSettings) -> None:
    """Write the final record of one state from the raw records of its element."""
    write_json(out_path, derive_element(symbol, _raw_records(raw_paths), settings)[state_id])


def write_manifest(symbol: str, raw_paths, out_path, settings: AtomsSettings) -> None:
    """Write the element's manifest from the raw records of its states."""
    final = derive_element(symbol, _raw_records(raw_paths), settings)
    write_json(out_path, manifest_from_records(symbol, final, settings))


def summarize_element(symbol: str, raw_dir: Path, out_dir: Path, settings: AtomsSettings) -> dict:
    """Read raw/{state}.json of every configured state, write final {state}.json and manifest.json."""
    raw = {st.state_id: read_json(Path(raw_dir) / f"{st.state_id}.json", f"raw result of {st.state_id}")
           for st in settings.states(symbol)}
    final = derive_element(symbol, raw, settings)
    for sid, rec in final.items():
        write_json(Path(out_dir) / f"{sid}.json", rec)
    manifest = manifest_from_records(symbol, final, settings)
    write_json(Path(out_dir) / "manifest.json", manifest)
    return manifest


def load_density(npz_path) -> dict[str, np.ndarray]:
    """Arrays of a stage-1 density file: r_bohr, rho, drho_dr, rdf."""
    try:
        with np.load(npz_path) as z:
            return {k: z[k] for k in ("r_bohr", "rho", "drho_dr", "rdf")}
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{npz_path} is not a stage-1 density file ({exc})") from None


def state_from_id(state_id: str, settings: AtomsSettings | None = None) -> AtomState:
    """AtomState for an id such as 'Li0_2P' (excited labels from the config or built-ins)."""
    from .states import parse_state_id

    symbol, charge, label = parse_state_id(state_id)
    excited = (settings.excited.get(symbol, []) if settings else [])
    role = "state"
    if settings is not None:
        for st in settings.states(symbol):
            if st.state_id == state_id:
                return st
    return make_state(symbol, charge, label, excited=excited, role=role)
