# Stage 2: constrained Slater fits of every ensemble state (aux states such as Li+2 only
# supply energies and are not fitted), and one figure per element.
from ectem_core.fit_records import fit_settings_from_config

FIT_SETTINGS, KAPPA_SOURCE = fit_settings_from_config(config)
FIT_STATES = {el: [s.state_id for s in ATOMS.states(el) if s.role == "state"] for el in config["elements"]}


def fit_outputs():
    files = [f"results/fits/{el}/fits.png" for el in FIT_STATES]
    for el, ids in FIT_STATES.items():
        files += [f"results/fits/{el}/{sid}.json" for sid in ids]
    return files


rule fit_state:
    """Constrained Aufbau Slater fit of one state's sphericalized density."""
    input:
        json="results/atoms/{element}/{state}.json",
        npz="results/atoms/{element}/{state}.npz",
    output:
        "results/fits/{element}/{state}.json",
    params:
        settings=str(FIT_SETTINGS) + KAPPA_SOURCE,
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/fit_state.py"


localrules:
    fit_plot,


rule fit_plot:
    """RDF and density-tail figure of all fitted states of an element."""
    input:
        fits=lambda wc: [f"results/fits/{wc.element}/{sid}.json" for sid in FIT_STATES[wc.element]],
        npz=lambda wc: [f"results/atoms/{wc.element}/{sid}.npz" for sid in FIT_STATES[wc.element]],
    output:
        report("results/fits/{element}/fits.png", caption="../report/fits.rst", category="Density fits"),
    run:
        from ectem_core.plots import plot_fits_from_files

        plot_fits_from_files(wildcards.element, input.fits, input.npz, output[0])
