"""Rule atom_state: compute one atomic state (thin adapter around ectem_core.atoms)."""
import contextlib

from ectem_core.atoms import run_state_to_files, settings_from_config, state_from_id

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    settings = settings_from_config(sm.config)
    state = state_from_id(sm.wildcards.state, settings)
    rec = run_state_to_files(state, settings, sm.output.raw, sm.output.npz)
    print(f"{rec['state_id']}: E = {rec['energy_hartree']:.10f} Ha, N = {rec['n_integrated']:.8f}, "
          f"wall {rec['wall_s']:.1f} s")
