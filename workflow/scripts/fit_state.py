"""Rule fit_state: fit one stage-1 state (thin adapter around ectem_core.fit_records)."""
from ectem_core.fit_records import fit_atom_record, fit_settings_from_config, load_atom_record
from ectem_core.io import write_json

settings, kappa_source = fit_settings_from_config(snakemake.config)
rec, npz = load_atom_record(snakemake.input.json)
write_json(snakemake.output[0], fit_atom_record(rec, snakemake.input.npz, settings, kappa_source))
