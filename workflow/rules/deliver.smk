# Stage 6 (ectem_core.deliver): the validation report of the element set (self-contained HTML
# and PDF) and the versioned, verified bundle archive that holds it.


# Runs on the submitting host: it reads every stage's results.
localrules:
    report,
    bundle_package,


rule report:
    """Verdict, provenance, states, density fits, embedding concordance, the potential's diatomic
    curves (every variant, plain EAM, QEq) and the molecular benchmarks, as HTML and PDF."""
    input:
        report_inputs(),
    output:
        html=report(L.report_html("{set}"), caption="../report/report_html.rst", category="Report"),
        pdf=report(L.report_pdf("{set}"), caption="../report/report_pdf.rst", category="Report"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        # typst (default): the wheel installed with ectem, so this rule needs no browser and no root
        pdf_renderer=(config.get("report") or {}).get("pdf_renderer", "typst"),
    log:
        L.log("report", "{set}"),
    run:
        from ectem_core.deliver.report import build_report

        with open(log[0], "w") as fh:
            build_report(".", config, output.html, output.pdf, pdf_renderer=params.pdf_renderer)
            print(f"report written: {output.html}, {output.pdf} (PDF by {params.pdf_renderer})", file=fh)


rule bundle_package:
    """Versioned, verified bundle archive: bundle.json + sha256 manifest + provenance README +
    the validation report and the crystal tables (docs/bundles.md)."""
    input:
        bundle=L.bundle_json("{set}"),
        html=L.report_html("{set}"),
        pdf=L.report_pdf("{set}"),
        crystals=[f for f in crystal_outputs() if f.endswith((".json", ".csv"))],
    output:
        report(L.bundle_archive("{set}", "{version}"), caption="../report/bundle_package.rst", category="Bundle"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
        version=r"[0-9]+\.[0-9]+\.[0-9]+",
    log:
        L.log("bundle", "{set}-{version}"),
    run:
        import os

        from ectem_core.deliver.store import pack_verified

        with open(log[0], "w") as fh:
            extra = {f"report/{wildcards.set}.html": input.html, f"report/{wildcards.set}.pdf": input.pdf}
            extra.update({f"crystals/{os.path.basename(f)}": f for f in input.crystals})   # validation data, not parameters
            path = pack_verified(input.bundle, output[0], wildcards.version, extra)
            print(f"packed and verified {path}", file=fh)
