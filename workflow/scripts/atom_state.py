"""Rule atom_state: compute one atomic state (thin adapter around ectem_core.atoms)."""
import contextlib

from ectem_core.atoms import run_state_to_files, settings_from_config, state_from_id

settings = settings_from_config(snakemake.config)
state = state_from_id(snakemake.wildcards.state, settings)
with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log):
    rec = run_state_to_files(state, settings, snakemake.output.raw, snakemake.output.npz)
    print(f"{rec['state_id']}: E = {rec['energy_hartree']:.10f} Ha, N = {rec['n_integrated']:.8f}, "
          f"wall {rec['wall_s']:.1f} s")
