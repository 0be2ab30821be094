# Stage 4 input: the parameter bundle v0 of the element set (atoms + fits + embedding only;
# no molecular data enters it).


def bundle_inputs(wildcards):
    files = [f"results/atoms/{el}/manifest.json" for el in STATES]
    for el, ids in STATES.items():
        files += [f"results/atoms/{el}/{sid}.json" for sid in ids]
    for el, ids in FIT_STATES.items():
        files += [f"results/fits/{el}/{sid}.json" for sid in ids]
        files += [f"results/embedding/{el}/{sid}.json" for sid in ids]
    return files


localrules:
    bundle,


rule bundle:
    """One JSON document with every state's ΔE, density parameters and embedding function."""
    input:
        bundle_inputs,
    output:
        report("results/bundle/{set}.json", caption="../report/bundle.rst", category="Bundle"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
    run:
        from ectem_core.bundle import bundle_from_results
        from ectem_core.io import write_json

        write_json(output[0], bundle_from_results(wildcards.set, "results", config["elements"], config))
