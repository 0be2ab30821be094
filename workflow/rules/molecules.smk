# Stage 5 (ectem_core.molecules): molecular QM references, charges, and the dissociation/charge
# benchmarks of the bundle against them (docs/references.md, docs/charges.md, docs/weights.md).
# Molecules only validate: nothing here feeds back into a bundle.


rule molecule_reference:
    """QM reference curve of one diatomic: closed-shell and broken-symmetry branches at every R."""
    output:
        csv=report(L.molecule_reference_csv("{mol}"), caption="../report/molecule_reference.rst",
                   category="Molecular references"),
        meta=L.molecule_reference_json("{mol}"),
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=240,
    log:
        L.log("molecules", "{mol}"),
    benchmark:
        L.timing("molecule_reference", "{mol}")
    script:
        "../scripts/molecule_reference.py"


rule molecule_charges:
    """Mulliken, IAO, Hirshfeld, Hirshfeld-I, MBIS and QTAIM charges at the density points."""
    input:
        meta=L.molecule_reference_json("{mol}"),
    output:
        L.molecule_charges("{mol}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        L.log("molecules", "{mol}_charges"),
    benchmark:
        L.timing("molecule_charges", "{mol}")
    script:
        "../scripts/molecule_charges.py"


rule benchmark_molecule:
    """ECT-EAM variants, plain EAM and QEq against the reference: curves, constants, charges,
    density-vs-energy weight consistency and plots."""
    input:
        bundle=L.bundle_json(SET_NAME),
        meta=L.molecule_reference_json("{mol}"),
        charges=L.molecule_charges("{mol}"),
    output:
        curves=report(L.benchmark_file("{mol}", "curves.csv"), caption="../report/benchmark_curves.rst",
                      category="Benchmarks"),
        spec=report(L.benchmark_file("{mol}", "spectroscopic.csv"), caption="../report/benchmark_spectroscopic.rst",
                    category="Benchmarks"),
        charges=L.benchmark_file("{mol}", "charges.csv"),
        consistency=L.benchmark_file("{mol}", "consistency.csv"),
        weights=L.benchmark_file("{mol}", "weights.csv"),
        dipoles=L.benchmark_file("{mol}", "dipoles.csv"),
        plot=report(L.benchmark_file("{mol}", "dissociation.png"), caption="../report/benchmark_plot.rst",
                    category="Benchmarks"),
    params:
        potential=POTENTIAL,
    threads: 1
    log:
        L.log("benchmarks", "{mol}"),
    benchmark:
        L.timing("benchmark_molecule", "{mol}")
    script:
        "../scripts/benchmark_molecule.py"


# ------------------------------------------------------------------ basis-level sensitivity
# The sensitivity table compares the bundle with bundles of the same element set built at
# other atom-stage basis sets (molecules.sensitivity_bases): a nested Snakemake run per basis
# in results/sensitivity/{basis}/, with the main config at that basis and no molecules.
def sensitivity_config(basis: str) -> dict:
    """The main config with the atom stage at `basis`, stage 5 and nested sensitivity off."""
    import copy

    sub = copy.deepcopy(config)
    sub["levels"]["energy"]["basis"] = basis
    if isinstance(sub["levels"].get("density"), dict) and "basis" in sub["levels"]["density"]:
        sub["levels"]["density"]["basis"] = basis
    sub["molecules"] = {"names": []}
    return sub


localrules:
    sensitivity_config,


rule sensitivity_config:
    """Config of the nested run at one atom-stage basis. The config text is a param, so that a changed
    config (another element set run in the same directory) rewrites it instead of reusing the old one."""
    output:
        L.sensitivity_run("{basis}") + "/config.yaml",
    params:
        text=lambda wc: yaml.safe_dump(sensitivity_config(wc.basis), sort_keys=False),
    log:
        L.log("sensitivity", "{basis}_config"),
    run:
        from ectem_core.io import write_text

        with open(log[0], "w") as fh:
            write_text(output[0], params.text)
            print(f"nested config at basis {wildcards.basis}", file=fh)


rule sensitivity_bundle:
    """The element set's bundle at another atom-stage basis (a nested pipeline run)."""
    input:
        config=L.sensitivity_run("{basis}") + "/config.yaml",
    output:
        L.sensitivity_run("{basis}") + "/" + L.bundle_json(SET_NAME),
    params:
        workdir=lambda wc: L.sensitivity_run(wc.basis),
        target=L.bundle_json(SET_NAME),
        snakefile=workflow.main_snakefile,
        python=sys.executable,
    threads: 2  # capped at --cores locally; on SLURM the nested run asks for 2 CPUs (workflow.cores is unset there)
    log:
        L.log("sensitivity", "{basis}"),
    shell:
        "echo 'nested run at basis {wildcards.basis}' > {log}; "
        "{params.python} -m snakemake {params.target} -s {params.snakefile} --directory {params.workdir} "
        "--cores {threads} --configfile $(realpath {input.config}) >> {log} 2>&1"


rule benchmark_sensitivity:
    """How Re, De and q(Re) move with each [choose] option of the model and with the atom-stage
    basis set (the nested runs above)."""
    input:
        bundle=L.bundle_json(SET_NAME),
        metas=expand(L.molecule_reference_json("{mol}"), mol=MOL_NAMES),
        basis_bundles=expand(L.sensitivity_run("{basis}") + "/" + L.bundle_json(SET_NAME), basis=SENSITIVITY_BASES),
    output:
        L.sensitivity_csv(),
    params:
        potential=POTENTIAL,
        bases=SENSITIVITY_BASES,
    threads: 1
    log:
        L.log("benchmarks", "sensitivity"),
    benchmark:
        L.timing("benchmark_sensitivity", "")
    script:
        "../scripts/benchmark_sensitivity.py"
