# Stage 5: molecular QM references, charges, and the dissociation/charge benchmarks of the
# bundle against them (docs/references.md, docs/charges.md, docs/weights.md). Molecules only
# validate: nothing here feeds back into a bundle.
from ectem_core.molecules import settings_from_config as _molecule_settings

try:
    MOLECULES = _molecule_settings(config)
except InputError as _exc:      # one line naming the key, not a traceback
    raise WorkflowError(f"config: {_exc}") from None
MOL_NAMES = [m.name for m in MOLECULES.molecules]
POTENTIAL = {"variants": ["pure", "resonance", "thermal"], "background": "overlap", "proton": False,
             **config.get("potential", {})}
BENCH_FILES = ("curves.csv", "spectroscopic.csv", "charges.csv", "consistency.csv", "weights.csv", "dipoles.csv")


def benchmark_outputs():
    files = [f"results/benchmarks/{m}/{f}" for m in MOL_NAMES for f in BENCH_FILES]
    return files + (["results/benchmarks/sensitivity.csv"] if MOL_NAMES else [])


wildcard_constraints:
    mol=r"[A-Z][a-z]?[0-9]?([A-Z][a-z]?)?",


rule molecule_reference:
    """QM reference curve of one diatomic: closed-shell and broken-symmetry branches at every R."""
    output:
        csv=report("results/molecules/{mol}/reference.csv", caption="../report/molecule_reference.rst",
                   category="Molecular references"),
        meta="results/molecules/{mol}/reference.json",
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=240,
    log:
        "logs/molecules/{mol}.log",
    benchmark:
        "logs/timing/molecule_reference_{mol}.tsv"
    script:
        "../scripts/molecule_reference.py"


rule molecule_charges:
    """Mulliken, IAO, Hirshfeld, Hirshfeld-I, MBIS and QTAIM charges at the density points."""
    input:
        meta="results/molecules/{mol}/reference.json",
    output:
        "results/molecules/{mol}/charges.csv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        "logs/molecules/{mol}_charges.log",
    benchmark:
        "logs/timing/molecule_charges_{mol}.tsv"
    script:
        "../scripts/molecule_charges.py"


rule benchmark_molecule:
    """ECT-EAM variants, plain EAM and QEq against the reference: curves, constants, charges,
    density-vs-energy weight consistency and plots."""
    input:
        bundle=f"results/bundle/{SET_NAME}.json",
        meta="results/molecules/{mol}/reference.json",
        charges="results/molecules/{mol}/charges.csv",
    output:
        curves=report("results/benchmarks/{mol}/curves.csv", caption="../report/benchmark_curves.rst",
                      category="Benchmarks"),
        spec=report("results/benchmarks/{mol}/spectroscopic.csv", caption="../report/benchmark_spectroscopic.rst",
                    category="Benchmarks"),
        charges="results/benchmarks/{mol}/charges.csv",
        consistency="results/benchmarks/{mol}/consistency.csv",
        weights="results/benchmarks/{mol}/weights.csv",
        dipoles="results/benchmarks/{mol}/dipoles.csv",
        plot=report("results/benchmarks/{mol}/dissociation.png", caption="../report/benchmark_plot.rst",
                    category="Benchmarks"),
    threads: 1
    log:
        "logs/benchmarks/{mol}.log",
    benchmark:
        "logs/timing/benchmark_molecule_{mol}.tsv"
    script:
        "../scripts/benchmark_molecule.py"


rule benchmark_sensitivity:
    """How Re, De and q(Re) move with each [choose] option of the model and with the atom-stage
    basis set (molecules.sensitivity_bases: a nested run per basis builds that bundle)."""
    input:
        bundle=f"results/bundle/{SET_NAME}.json",
        metas=expand("results/molecules/{mol}/reference.json", mol=MOL_NAMES),
    output:
        "results/benchmarks/sensitivity.csv",
    params:
        snakefile=workflow.main_snakefile,
        set_name=SET_NAME,
    threads: 1
    log:
        "logs/benchmarks/sensitivity.log",
    benchmark:
        "logs/timing/benchmark_sensitivity.tsv"
    script:
        "../scripts/benchmark_sensitivity.py"
