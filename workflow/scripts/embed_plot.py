"""Rule embed_plot: overlay + parity figure of one element's embedding functions."""
import contextlib

from ectem_core.embedding.plots import plot_embedding_from_files

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    plot_embedding_from_files(sm.wildcards.element, list(sm.input), sm.output[0])
    print(f"{sm.wildcards.element}: {len(sm.input)} embedding functions plotted")
