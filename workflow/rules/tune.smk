# Stage 5c (ectem_core.tune): a few physical parameters (neutral-state background scales, bond
# strengths) fitted to the QM binding curves of the training molecules, validated on each molecule
# left out and on polyatomic cluster references no fit uses; writes a separate tuned bundle
# (docs/tune.md). The atoms-only bundle and its digest are not touched.


rule cluster_reference:
    """QM energy of one held-out cluster and its free atoms at the molecule references' level."""
    output:
        L.cluster_reference_json("{cluster}"),
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=120,
    log:
        L.log("clusters", "{cluster}"),
    benchmark:
        L.timing("cluster_reference", "{cluster}")
    script:
        "../scripts/cluster_reference.py"


rule tune:
    """Fit, leave-one-out, held-out clusters and the tuned bundle of the element set."""
    input:
        bundle=L.bundle_json("{set}"),
        refs=[L.molecule_reference_json(m) for m in TUNE_MOLECULES],
        clusters=[L.cluster_reference_json(n) for n in CLUSTER_NAMES],
    output:
        json=L.tune_json("{set}"),
        png=report(L.tune_plot("{set}"), caption="../report/tune.rst", category="Tuned potential"),
        bundle=report(L.bundle_json(L.tuned_name("{set}")), caption="../report/tune.rst", category="Tuned potential"),
    params:
        molecules=[(m, *MOLECULES.get(m).symbols) for m in TUNE_MOLECULES],
    wildcard_constraints:
        set=re.escape(SET_NAME),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    log:
        L.log("tune", "{set}"),
    benchmark:
        L.timing("tune", "{set}")
    script:
        "../scripts/tune.py"


rule tuned_package:
    """Versioned, verified archive of the tuned bundle with the tuning tables and figure."""
    input:
        bundle=L.bundle_json(L.tuned_name("{set}")),
        json=L.tune_json("{set}"),
        png=L.tune_plot("{set}"),
    output:
        L.bundle_archive(L.tuned_name("{set}"), "{version}"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
        version=r"[0-9]+\.[0-9]+\.[0-9]+",
    log:
        L.log("bundle", "{set}-tuned-{version}"),
    run:
        from ectem_core.deliver.store import pack_verified

        with open(log[0], "w") as fh:
            extra = {f"tune/{wildcards.set}.json": input.json, f"tune/{wildcards.set}.png": input.png}
            path = pack_verified(input.bundle, output[0], wildcards.version, extra)
            print(f"packed and verified {path}", file=fh)
