# Stage 2 (ectem_core.density): constrained Slater fits of every ensemble state (aux states
# such as Li+2 only supply energies and are not fitted), and one figure per element.
from ectem_core.density.records import fit_settings_from_config

FIT_SETTINGS, KAPPA_SOURCE = fit_settings_from_config(config)


rule fit_state:
    """Constrained Aufbau Slater fit of one state's sphericalized density."""
    input:
        json=L.atom_record("{element}", "{state}"),
        npz=L.atom_density("{element}", "{state}"),
    output:
        L.fit_record("{element}", "{state}"),
    params:
        settings=str(FIT_SETTINGS) + KAPPA_SOURCE,
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        L.log("fits/{element}", "{state}"),
    script:
        "../scripts/fit_state.py"


localrules:
    fit_plot,


rule fit_plot:
    """RDF and density-tail figure of all fitted states of an element."""
    input:
        fits=lambda wc: [L.fit_record(wc.element, sid) for sid in FIT_STATES[wc.element]],
        npz=lambda wc: [L.atom_density(wc.element, sid) for sid in FIT_STATES[wc.element]],
    output:
        report(L.fit_figure("{element}"), caption="../report/fits.rst", category="Density fits"),
    log:
        L.log("fits/{element}", "plot"),
    run:
        from ectem_core.density.plots import plot_fits_from_files

        with open(log[0], "w") as fh:
            plot_fits_from_files(wildcards.element, input.fits, input.npz, output[0])
            print(f"{wildcards.element}: {len(input.fits)} fits plotted", file=fh)
