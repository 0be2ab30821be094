# Stage 4 (ectem_core.potential): the parameter bundle of the element set (atoms + fits +
# embedding only; no molecular data enters it).


localrules:
    bundle,


rule bundle:
    """One JSON document with every state's ΔE, density parameters and embedding function."""
    input:
        bundle_inputs(),
    output:
        report(L.bundle_json("{set}"), caption="../report/bundle.rst", category="Bundle"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
    log:
        L.log("bundle", "{set}"),
    run:
        from ectem_core.io import write_json
        from ectem_core.potential.bundle import bundle_from_results

        with open(log[0], "w") as fh:
            doc = bundle_from_results(wildcards.set, ".", ELEMENTS, config)
            write_json(output[0], doc)
            print(f"{wildcards.set}: {len(doc['states'])} states, parameters_sha256 {doc['parameters_sha256']}",
                  file=fh)
