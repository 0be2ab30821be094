# Stage 6: the validation report of the element set, results/report/{set}.html (self-contained:
# inline CSS, figures as base64 PNG) and .pdf (the same page printed by headless Chromium;
# Debian: apt-get install chromium). Needs atom_outputs/fit_outputs/embedding_outputs from the
# stage files included before this one; the benchmark CSVs enter only when molecules are
# configured (benchmark_outputs() of benchmarks.smk).
import re


def report_inputs(wildcards):
    files = [f"results/bundle/{SET_NAME}.json"] + atom_outputs() + fit_outputs() + embedding_outputs()
    bench = globals().get("benchmark_outputs")   # [] when no molecule is configured
    if bench is not None:
        files += list(bench())
    return files


# Runs on the submitting host: the PDF needs Chromium, which compute nodes rarely have.
localrules:
    report,


rule report:
    """Verdict, provenance, states, density fits, embedding concordance, the potential's diatomic
    curves (every variant, plain EAM, QEq) and the molecular benchmarks, as HTML and PDF."""
    input:
        report_inputs,
    output:
        html=report("results/report/{set}.html", caption="../report/report_html.rst", category="Report"),
        pdf=report("results/report/{set}.pdf", caption="../report/report_pdf.rst", category="Report"),
    wildcard_constraints:
        set=re.escape(SET_NAME),
    resources:
        mem_mb=2000,
        runtime=30,
    run:
        from ectem_core.report import build_report

        build_report(".", config, output.html, output.pdf)
