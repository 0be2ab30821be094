"""Rule embed_state: embedding function of one state (thin adapter around ectem_core.embedding_records)."""
from ectem_core.embedding import settings_from_config
from ectem_core.embedding_records import embed_from_files
from ectem_core.io import write_json

settings = settings_from_config(snakemake.config)
write_json(snakemake.output[0], embed_from_files(snakemake.input.fit, list(snakemake.input.partners), settings))
