"""Rule embed_plot: overlay + parity figure of one element's embedding functions."""
from ectem_core.plots_embedding import plot_embedding_from_files

plot_embedding_from_files(snakemake.wildcards.element, list(snakemake.input), snakemake.output[0])
