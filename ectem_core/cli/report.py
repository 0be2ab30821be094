"""`ectem report [--workdir DIR] [--configfile CONFIG] [--html OUT] [--pdf OUT | --no-pdf]
[--pdf-renderer typst|chromium]`: the validation report (HTML + PDF) of a finished pipeline run."""
from __future__ import annotations

RENDERERS = ("typst", "chromium")   # ectem_core.deliver.report.pdf.RENDERERS (not imported: keeps --help fast)


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="validation report (HTML + PDF) of a pipeline run",
        description="Read results/ of a pipeline run (atoms, fits, embedding, bundle, benchmarks) and write "
                    "results/report/{set}.html (self-contained) and .pdf (the same content, rendered by the "
                    "bundled typst compiler; --pdf-renderer chromium prints the page with headless Chromium).",
    )
    p.add_argument("--workdir", default=".", help="directory holding results/ (default: current directory)")
    p.add_argument("--configfile", default="config/config.yaml",
                   help="the config the pipeline ran with (default: config/config.yaml)")
    p.add_argument("--html", default=None, metavar="OUT", help="HTML output (default: results/report/{set}.html)")
    p.add_argument("--pdf", default=None, metavar="OUT", help="PDF output (default: results/report/{set}.pdf)")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    p.add_argument("--pdf-renderer", choices=RENDERERS, default=None,
                   help="typst: bundled with ectem, no browser needed; chromium: headless Chromium "
                        "(apt-get install chromium, or ECTEM_CHROMIUM). Default: report.pdf_renderer of the "
                        "config, else typst")
    p.add_argument("--pairs", default=None, metavar="A-B,...",
                   help="heteronuclear pairs to scan (default: every pair of the set, e.g. Li-F,Li-H,H-F)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args) -> int:
    from pathlib import Path

    from .. import layout as L
    from ..config import load_config, set_name
    from ..deliver.report import build_report

    config = load_config(args.configfile)
    work = Path(args.workdir)
    name = set_name(config)
    html = Path(args.html) if args.html else L.under(work, L.report_html(name))
    pdf = None if args.no_pdf else (Path(args.pdf) if args.pdf else L.under(work, L.report_pdf(name)))
    pairs = [p.strip() for p in args.pairs.split(",") if p.strip()] if args.pairs else None
    renderer = args.pdf_renderer or (config.get("report") or {}).get("pdf_renderer")
    build_report(work, config, html, pdf, pairs=pairs, **({"pdf_renderer": renderer} if renderer else {}))
    print(html)
    if pdf is not None:
        print(pdf)
    return 0
