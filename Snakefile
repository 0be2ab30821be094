# ectem: isolated-atom quantum chemistry -> ECT-EAM potentials. One invocation per element set:
#   snakemake --cores 2                       (default config/config.yaml)
#   snakemake --cores 2 --configfile config/production.yaml
#   snakemake --profile config/profiles/slurm --configfile config/production.yaml
# Stages (workflow/rules/*.smk, the same names as the ectem_core subpackages):
#   atoms -> density -> embedding -> potential (bundle) -> molecules, crystals, tune -> deliver (report, archive)


include: "workflow/rules/common.smk"
include: "workflow/rules/atoms.smk"
include: "workflow/rules/density.smk"
include: "workflow/rules/embedding.smk"
include: "workflow/rules/potential.smk"
include: "workflow/rules/molecules.smk"
include: "workflow/rules/crystals.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/deliver.smk"
include: "workflow/rules/crosscheck.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        final_outputs(),
