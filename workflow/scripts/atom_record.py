"""Rule atom_record: derived energies and status of one state (thin adapter)."""
from pathlib import Path

from ectem_core.atoms import derive_element, settings_from_config
from ectem_core.io import read_json, write_json

settings = settings_from_config(snakemake.config)
raw = {Path(p).stem: read_json(p, "raw atom result") for p in snakemake.input}
final = derive_element(snakemake.wildcards.element, raw, settings)
write_json(snakemake.output[0], final[snakemake.wildcards.state])
