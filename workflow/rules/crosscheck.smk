# Cross-check of the two QM backends (PySCF vs Psi4) on the configured element set at the
# configured levels: energy and sphericalized-density differences per state. Not part of
# the default target; request it explicitly:
#   snakemake --cores 2 results/crosscheck/H-Li-F.csv
# Psi4 comes from Debian (`apt-get install psi4`) or, with `--sdm conda`, from envs/psi4.yaml.


rule crosscheck:
    """PySCF vs Psi4 on every computed state of the element set (energies, ρ(0), ρ̄(r))."""
    output:
        L.crosscheck_csv("{set}"),
    params:
        elements=ELEMENTS,
    wildcard_constraints:
        set=re.escape(SET_NAME),
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=240,
    log:
        L.log("crosscheck", "{set}"),
    conda:
        "../../envs/psi4.yaml"
    script:
        "../scripts/crosscheck.py"
