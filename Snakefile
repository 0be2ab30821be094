# ectem: isolated-atom quantum chemistry -> ECT-EAM potentials. One invocation per element set:
#   snakemake --cores 2                       (default config/config.yaml)
#   snakemake --cores 2 --configfile config/production.yaml
#   snakemake --profile config/profiles/slurm --configfile config/production.yaml
import re

from snakemake.utils import min_version, validate

min_version("9.0")


# The default config is read only when no --configfile/--config is given, so that a
# second config file replaces it instead of being merged key by key into it.
if not config:

    configfile: "config/config.yaml"



from ectem_core.config import check_config, set_name
from ectem_core.errors import InputError

# Our check first: it names the offending key and value in one line; then Snakemake's
# schema validation (same schema), which also fills in the defaults.
try:
    check_config(config, source="config")
except InputError as _exc:
    raise WorkflowError(str(_exc)) from None
validate(config, "config/schema.yaml")

SET_NAME = set_name(config)


wildcard_constraints:
    element=r"[A-Z][a-z]?",
    state=r"[A-Z][a-z]?(0|[+-][1-9])(_[A-Za-z0-9]+)?",


include: "workflow/rules/atoms.smk"
include: "workflow/rules/fits.smk"
include: "workflow/rules/embedding.smk"
include: "workflow/rules/bundle.smk"
include: "workflow/rules/crosscheck.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        atom_outputs(),
        fit_outputs(),
        embedding_outputs(),
        f"results/bundle/{SET_NAME}.json",
        benchmark_outputs(),
        f"results/report/{SET_NAME}.html",
        f"results/report/{SET_NAME}.pdf",
        f"results/bundle/{SET_NAME}-{BUNDLE_VERSION}.tar.gz",
