"""The PDF of the HTML report, by one of two renderers:

- typst (default): the page converted to Typst and compiled by the `typst` wheel that pip installs
  with ectem (typst_pdf.py); needs no browser, no system library and no root, and gives the same
  PDF on every machine. A4 landscape.
- chromium: the page printed by headless Chromium, the engine that shows the HTML, A4, no
  header/footer. Chromium comes from the OS (Debian: apt-get install chromium) or ECTEM_CHROMIUM.

render_pdf(html, pdf, renderer) picks one; "auto" means Chromium when one is installed, else typst."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import InputError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
RENDERERS = ("typst", "chromium")
DEFAULT_RENDERER = "typst"


def find_chromium() -> str:
    """Path of a Chromium/Chrome executable (ECTEM_CHROMIUM overrides); InputError if there is none."""
    env = os.environ.get("ECTEM_CHROMIUM")
    if env:
        if shutil.which(env) is None:
            raise InputError(f"ECTEM_CHROMIUM={env!r} is not an executable; unset it or point it to chromium")
        return shutil.which(env)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise InputError("the PDF report needs Chromium, which is not installed: apt-get install chromium "
                     "(or set ECTEM_CHROMIUM to a Chrome/Chromium executable, or build the HTML only)")


def chromium_args(exe: str, profile_dir: str) -> list[str]:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile_dir}"]


def print_pdf(html_path, pdf_path, timeout: float = 180.0) -> None:
    """Render html_path (a local file) to pdf_path; EctemError-derived InputError on failure."""
    exe = find_chromium()
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="ectem-chromium-") as profile:
        cmd = chromium_args(exe, profile) + [f"--print-to-pdf={pdf_path}", "--no-pdf-header-footer",
                                             "--virtual-time-budget=10000", html_path.as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 env=dict(os.environ, HOME=profile))
        except subprocess.TimeoutExpired:
            raise InputError(f"chromium did not print {html_path.name} within {timeout:.0f} s") from None
    ok = pdf_path.exists() and pdf_path.stat().st_size > 0 and pdf_path.read_bytes()[:5] == b"%PDF-"
    if run.returncode != 0 or not ok:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [f"exit code {run.returncode}"]
        raise InputError(f"chromium failed to print {html_path.name} to PDF: {tail[0]}")


def check_renderer(renderer: str) -> str:
    """The renderer that render_pdf will use for `renderer` (typst, chromium or auto); InputError
    for an unknown name or a requested Chromium that is not installed. Cheap: call it before the
    report is computed, so a missing browser is reported at once."""
    if renderer == "auto":
        try:
            find_chromium()
            return "chromium"
        except InputError:
            return "typst"
    if renderer not in RENDERERS:
        raise InputError(f"PDF renderer {renderer!r} is not one of {', '.join(RENDERERS)} (or auto)")
    if renderer == "chromium":
        find_chromium()
    return renderer


def render_pdf(html_path, pdf_path, renderer: str = DEFAULT_RENDERER, what: str | None = None) -> str:
    """Render the HTML report html_path to pdf_path with `renderer` (typst, chromium or auto);
    returns the renderer used. InputError (one message; `what` names the document in it, default
    the HTML file) on failure."""
    used = check_renderer(renderer)
    if used == "chromium":
        print_pdf(html_path, pdf_path)
    else:
        from .typst_pdf import print_pdf_typst

        print_pdf_typst(html_path, pdf_path, what=what)
    return used
