"""Stage 1 records: derived IP/EA/excitation energies, status ('ok', 'exact', 'excluded') with
reasons, and the element manifest, from the raw records of every state of an element."""
from __future__ import annotations

from pathlib import Path

from .. import SCHEMA_VERSION, elements
from ..errors import InputError
from ..io import provenance, read_json, write_json
from .compute import AtomsSettings

EV = elements.HARTREE_EV


def state_header(rec: dict) -> dict:
    """The identity of a state that every later record (fit, embedding) repeats from the
    record it was made from: schema version, state id, element, Z, charge, electrons, role."""
    return {"schema_version": SCHEMA_VERSION, "state_id": rec["state_id"], "symbol": rec.get("symbol"),
            "Z": rec["Z"], "charge": rec["charge"], "n_electrons": rec["n_electrons"],
            "role": rec.get("role", "state"), "kind": rec.get("kind")}


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
                                       f"(tolerance {settings.excitation_tolerance_ev} eV): "
                                       "the calculation landed on another state")
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
