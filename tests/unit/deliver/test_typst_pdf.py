"""The report's PDF without a browser (ectem_core.deliver.report.typst_pdf): text goes into Typst
verbatim (string literals, never markup), comes back out of the compiled PDF unchanged (read
with pypdf), wide tables stay on the page and repeat their header, status cells keep the HTML's
colours, and failures are one InputError without a partial file."""
from __future__ import annotations

import base64
import io
import json
import re
import unicodedata

import numpy as np
import pytest

from ectem_core.deliver.report import html as H
from ectem_core.deliver.report.pdf import check_renderer, render_pdf
from ectem_core.deliver.report.typst_pdf import MARGIN_MM, STATUS_COLOURS, html_to_typst, tcontent, tstr
from ectem_core.errors import InputError

typst = pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

# every character Typst markup gives a meaning to, code-mode breakouts, escapes, and the report's Unicode
HOSTILE = [
    r'#panic("injected") $x^2$ *bold* _emph_ `raw` <label> @ref [content] {code} \\ \n',
    '"quoted" \'single\' -- --- ... ~ -1 +1 = / // /* comment */ http://example.org',
    'backslash\\ at end\\',
    ");] #let x = 1; [(",
    "ρ̄₀ (bohr⁻³) κ = √(2I) λ·E_c ΔE ≤ 1e-8 ∫(D_fit − D)² Weizsäcker Li⁺F⁻ 4πr²ρ̄ ωe (cm⁻¹)",
    "state_id H+1 F-1 Li0_2P 50% & < > ' \" # $ % ^ * _ | ~",
]


def norm(text: str) -> str:
    """NFC, no whitespace: the PDF wraps lines and cells where the HTML does not."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def pdf_images(path) -> list[tuple[int, int]]:
    """(width, height) of every image object in the PDF, each once (typst < 0.14 lists all of a
    document's images in every page's resources)."""
    seen = {}
    for page in pypdf.PdfReader(path).pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen[getattr(ref, "idnum", id(obj))] = (int(obj["/Width"]), int(obj["/Height"]))
    return sorted(seen.values())


def _png(width=40, height=20) -> bytes:
    import matplotlib.image as mpimg

    buf = io.BytesIO()
    img = np.zeros((height, width, 3))
    img[:, : width // 2, 0] = 1.0
    mpimg.imsave(buf, img, format="png")
    return buf.getvalue()


def typst_value(expr: str):
    """The value of a Typst expression, as JSON (through a metadata element and typst.query)."""
    return json.loads(typst.query(f"#metadata({expr}) <v>".encode(), "<v>", field="value", one=True))


def test_string_literals_read_back_verbatim():
    for s in HOSTILE + ["", "\t\r\n\x01\x1f\x7f\x9f", "\\" * 5, '"' * 3, "\u2028 \ufeff 😀"]:
        assert typst_value(tstr(s)) == s, s
    # a combining mark gets a box of its own (see tcontent), the text is unchanged
    assert typst_value(f"({tcontent('ρ̄₀ x')}).fields().children.len()") == 3
    assert tcontent("Weizsäcker") == tstr("Weizsäcker")          # precomposed: one plain string


def _hostile_page() -> str:
    rows = [[s, H.status_cell(st), 1.5e-9 * (k + 1), s[::-1]] for k, (s, st) in
            enumerate(zip(HOSTILE, ["pass", "warn", "fail", "info", "not run", "pass"]))]
    body = "".join(H.section(f"s{k}", f"{k + 1}. {s}", H.para(s) + "<h3>" + H.esc(s) + "</h3>")
                   for k, s in enumerate(HOSTILE))
    body += H.section("t", "Table", '<div class="summary"><span class="pass">pass: 2</span>'
                                    '<span class="fail">fail: 1</span></div>'
                      + H.table(["text", "status", "value", HOSTILE[0]], rows, "hostile-table"))
    body += H.section("f", "Figure", H.png_figure(_png(), HOSTILE[1], HOSTILE[2]) + H.pre(HOSTILE[3] + "\n  " + HOSTILE[5]))
    return H.document(HOSTILE[4], HOSTILE[0], [(f"s{k}", s) for k, s in enumerate(HOSTILE)], body)


def test_hostile_text_comes_back_out_of_the_pdf_unchanged(tmp_path):
    page = tmp_path / "hostile.html"
    page.write_text(_hostile_page(), encoding="utf-8")
    pdf = tmp_path / "hostile.pdf"
    assert render_pdf(page, pdf, "typst") == "typst"
    text = norm(pdf_text(pdf))
    for s in HOSTILE + [s[::-1] for s in HOSTILE] + ["pass: 2", "fail: 1", "1.5e-09", "9e-09"]:
        assert norm(s) in text, s
    # in the order of the page: title, subtitle, then each section's heading, paragraph and h3
    pos = 0
    for item in [HOSTILE[4], HOSTILE[0]] + [x for s in HOSTILE for x in (s, s, s)]:
        pos = text.index(norm(item), pos) + 1
    reader = pypdf.PdfReader(pdf)
    assert reader.metadata.title == HOSTILE[4]
    assert pdf_images(pdf) == [(40, 20)]
    # the check can fail: text the page does not have is not found
    assert norm("*bold* without its stars") not in text and norm("bold") in text


def test_wide_long_table_fits_the_page_repeats_its_header_and_keeps_status_colours(tmp_path):
    headers = [f"column {k} with a long header (unit⁻¹)" for k in range(14)]
    statuses = ["pass", "warn", "fail", "info", "not-run"]
    rows = [[f"state{k}_" + "x" * 12, H.Cell(statuses[k % 5].replace("-", " "), statuses[k % 5])]
            + [(-1) ** j * 123.456789012 * (k + j) for j in range(6)]
            + ["a longer explanation that has to wrap inside its cell"] * 6 for k in range(120)]
    page = H.document("wide", "sub", [], H.section("w", "Wide", H.table(headers, rows, "wide", digits=10)))
    source, files = html_to_typst(page)
    pdf = tmp_path / "wide.pdf"
    (tmp_path / "wide.html").write_text(page)
    render_pdf(tmp_path / "wide.html", pdf, "typst")
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) >= 3
    for p in reader.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert (round(w), round(h)) == (842, 595)                  # A4 landscape
    for p in reader.pages[1:]:                                     # the header row repeats on every page
        assert norm(p.extract_text()).startswith(norm(" ".join(headers)))
    text = norm(pdf_text(pdf))
    for k in range(120):
        assert norm(f"state{k}_" + "x" * 12) in text
    # nothing outside the right margin, and the status colours of the HTML fill the status cells
    ppi = 60
    pages = typst.compile(source.encode(), format="png", ppi=ppi, ignore_system_fonts=True)
    import matplotlib.image as mpimg

    margin_px = int((MARGIN_MM - 2) / 25.4 * ppi)
    seen = set()
    for png in pages:
        img = np.round(mpimg.imread(io.BytesIO(png))[..., :3] * 255)
        assert img.shape[1] == round(297 / 25.4 * ppi)
        assert (img[:, -margin_px:] >= 250).all(), "ink in the right margin: the table is wider than the page"
        for cls, (bg, _) in STATUS_COLOURS.items():
            mask = (np.abs(img - [int(bg[i:i + 2], 16) for i in (1, 3, 5)]) <= 1).all(axis=-1)
            # a filled area (a 5x5 pixel block), not the antialiased edge of a thin line
            block = mask[2:-2, 2:-2] & mask[:-4, 2:-2] & mask[4:, 2:-2] & mask[2:-2, :-4] & mask[2:-2, 4:]
            if block.sum() >= 20:
                seen.add(cls)
    assert seen == set(STATUS_COLOURS)
    # the check can fail: a table twice as wide as the page leaves ink in the margin
    wide = source.replace("#table(columns: 14,", "#block(width: 200%, table(columns: 14,", 1).rstrip() + ")\n"
    img = mpimg.imread(io.BytesIO(typst.compile(wide.encode(), format="png", ppi=ppi, ignore_system_fonts=True)[0]))
    assert not (np.round(img[:, -margin_px:, :3] * 255) >= 250).all()


def test_failures_are_one_clear_error_and_no_pdf(tmp_path, monkeypatch):
    # a corrupt PNG: typst's own message, one line
    bad = H.png_figure(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "broken figure", "broken")
    page = tmp_path / "bad.html"
    page.write_text(H.document("t", "s", [], H.section("a", "A", bad)))
    pdf = tmp_path / "bad.pdf"
    with pytest.raises(InputError, match=r"^typst could not render bad\.html to PDF: .*\S") as exc:
        render_pdf(page, pdf, "typst")
    assert "\n" not in str(exc.value) and not pdf.exists()
    # a figure that is not inside the page
    page.write_text(H.document("t", "s", [], '<figure><img alt="x" src="https://example.org/a.png">'
                                             "<figcaption>remote</figcaption></figure>"))
    with pytest.raises(InputError, match=r"'remote': image source 'https://example.org/a.png' is not an embedded"):
        render_pdf(page, pdf, "typst")
    # renderer names
    with pytest.raises(InputError, match=r"PDF renderer 'weasyprint' is not one of typst, chromium \(or auto\)"):
        render_pdf(page, pdf, "weasyprint")
    monkeypatch.setenv("ECTEM_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(InputError, match=r"ECTEM_CHROMIUM=.*no-chromium.* is not an executable"):
        check_renderer("chromium")
    assert check_renderer("auto") == "typst" and check_renderer("typst") == "typst"
    monkeypatch.delenv("ECTEM_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match=r"needs Chromium, which is not installed"):
        check_renderer("chromium")
    assert check_renderer("auto") == "typst"


def test_figures_are_scaled_to_the_page_and_keep_their_pixels(tmp_path):
    small, tall = _png(200, 100), _png(300, 3000)
    body = H.png_figure(small, "small", "s") + H.png_figure(tall, "tall", "t")
    page = H.document("t", "s", [], H.section("a", "A", body))
    source, files = html_to_typst(page)
    assert [base64.b64encode(v).decode() for v in files.values()] == [base64.b64encode(small).decode(),
                                                                       base64.b64encode(tall).decode()]
    widths = [float(w) for w in re.findall(r'#ect-figure\("figure-\d\.png", ([0-9.]+)mm', source)]
    assert widths[0] == pytest.approx(200 * 25.4 / 96, abs=0.1)    # natural size (CSS px) when it fits
    assert widths[1] == pytest.approx(150 * 300 / 3000, abs=0.1)   # height-limited to 150 mm
    (tmp_path / "f.html").write_text(page)
    render_pdf(tmp_path / "f.html", tmp_path / "f.pdf", "typst")
    assert pdf_images(tmp_path / "f.pdf") == [(200, 100), (300, 3000)]
