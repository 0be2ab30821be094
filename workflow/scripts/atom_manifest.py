"""Rule atom_manifest: state list of one element with status and exclusion reasons (thin adapter)."""
from pathlib import Path

from ectem_core.atoms import manifest_from_records, derive_element, settings_from_config
from ectem_core.io import read_json, write_json

settings = settings_from_config(snakemake.config)
raw = {Path(p).stem: read_json(p, "raw atom result") for p in snakemake.input}
final = derive_element(snakemake.wildcards.element, raw, settings)
write_json(snakemake.output[0], manifest_from_records(snakemake.wildcards.element, final, settings))
