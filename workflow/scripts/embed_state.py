"""Rule embed_state: embedding function of one state (thin adapter around ectem_core.embedding.records)."""
import contextlib

from ectem_core.embedding import settings_from_config
from ectem_core.embedding.records import embed_from_files
from ectem_core.io import write_json

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    rec = embed_from_files(sm.input.fit, list(sm.input.partners), settings_from_config(sm.config))
    write_json(sm.output[0], rec)
    print(f"{rec.get('state_id')}: form {rec.get('form')}")
