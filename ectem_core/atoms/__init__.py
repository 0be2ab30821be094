"""Stage 1 — isolated-atom states: which states an element has (`states`), the radial grid and
sphericalization (`radial`), one state's calculation and files (`compute`), derived energies,
status and the element manifest (`records`), and the PySCF-vs-Psi4 cross-check (`crosscheck`)."""
from .compute import AtomsSettings, compute, load_density, raw_record, run_state_to_files, settings_from_config, state_from_id
from .records import derive_element, manifest_from_records, summarize_element, write_manifest, write_state_record
from .states import AtomState, default_states, make_state, parse_state_id

__all__ = ["AtomState", "AtomsSettings", "compute", "default_states", "derive_element", "load_density", "make_state",
           "manifest_from_records", "parse_state_id", "raw_record", "run_state_to_files", "settings_from_config",
           "state_from_id", "summarize_element", "write_manifest", "write_state_record"]
