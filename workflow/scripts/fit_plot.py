"""Rule fit_plot: one figure per element (thin adapter around ectem_core.plots)."""
from ectem_core.atoms import load_density
from ectem_core.io import read_json
from ectem_core.plots import plot_element_fits

items = [(read_json(f), load_density(n)) for f, n in zip(snakemake.input.fits, snakemake.input.npz)]
plot_element_fits(snakemake.wildcards.element, items, snakemake.output[0])
