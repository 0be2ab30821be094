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


BUNDLE_VERSION = config.get("bundle", {}).get("version", "0.1.0")


localrules:
    bundle_package,


rule bundle_package:
    """Versioned, verified bundle archive: bundle.json + sha256 manifest + provenance README +
    the validation report (docs/bundles.md)."""
    input:
        bundle="results/bundle/{set}.json",
        html="results/report/{set}.html",
        pdf="results/report/{set}.pdf",
    output:
        report("results/bundle/{set}-{version}.tar.gz", caption="../report/bundle_package.rst", category="Bundle"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
        version=r"[0-9]+\.[0-9]+\.[0-9]+",
    run:
        import os

        from ectem_core.errors import EctemError
        from ectem_core.store import pack_bundle, verify

        path = pack_bundle(input.bundle, os.path.dirname(output[0]), version=wildcards.version,
                           extra_files={f"report/{wildcards.set}.html": input.html,
                                        f"report/{wildcards.set}.pdf": input.pdf})
        check = verify(path)
        if not check.ok:
            os.unlink(path)
            raise EctemError(f"packed bundle failed verification: {'; '.join(check.problems)}")
        if str(path) != os.path.abspath(output[0]) and os.path.abspath(str(path)) != os.path.abspath(output[0]):
            os.replace(path, output[0])
