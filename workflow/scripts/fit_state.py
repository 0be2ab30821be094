"""Rule fit_state: fit one stage-1 state (thin adapter around ectem_core.density.records)."""
import contextlib

from ectem_core.density.records import fit_atom_record, fit_settings_from_config, load_atom_record
from ectem_core.io import write_json

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    settings, kappa_source = fit_settings_from_config(sm.config)
    rec, npz = load_atom_record(sm.input.json)
    fit = fit_atom_record(rec, sm.input.npz, settings, kappa_source)
    write_json(sm.output[0], fit)
    print(f"{fit['state_id']}: {len(fit.get('shells') or [])} shells, status {fit.get('status')}")
