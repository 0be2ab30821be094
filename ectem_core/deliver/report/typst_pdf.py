"""PDF of the validation report without a browser: the report's own HTML (as html.py writes it)
is converted to Typst markup and compiled by the `typst` wheel from PyPI, which carries the Rust
compiler and its fonts (Libertinus Serif, New Computer Modern, DejaVu Sans Mono); no system
library, system font, browser or network is used, so the same HTML gives the same PDF everywhere.

Converting the finished HTML (rather than building the PDF from the report's data a second
time) keeps the two files' content the same by construction: every heading, paragraph, table
cell, figure and caption of the page is carried over, in the page's order. The converter knows
the tags html.py emits (h1-h3, p, nav/ul/li/a, section, div.summary/span, table/thead/tbody/tr/
th/td with the status and num classes, figure/img/figcaption, pre); the text of any other tag
is kept as a paragraph. All text enters Typst as string literals, so nothing in it (#, $, *, _,
<, @, `, \\, [, ], quotes, --, ...) is read as markup.

Layout: A4 landscape (the widest tables have 14 columns), tables in 8 pt with wrapping cells
that break across pages and repeat their header row, status cells coloured as in the HTML,
figures scaled to fit one page with their caption, page numbers, a table of contents and PDF
bookmarks from the headings."""
from __future__ import annotations

import base64
import binascii
import os
import re
import struct
import tempfile
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from ...errors import InputError

PAGE_MM = (297.0, 210.0)                 # A4 landscape
MARGIN_MM = 12.0
CONTENT_W_MM = PAGE_MM[0] - 2 * MARGIN_MM
FIGURE_MAX_H_MM = 150.0                  # leaves room for the caption on one page
PX_MM = 25.4 / 96                        # a CSS pixel, the natural size of a figure in the HTML
FONTS = ("Libertinus Serif", "DejaVu Sans Mono", "New Computer Modern")   # all embedded in the wheel

# background, text colour (as html.CSS)
STATUS_COLOURS = {"pass": ("#d9f2dd", "#135c22"), "warn": ("#fff1c9", "#7a5a00"), "fail": ("#f9d6d5", "#8c1d18"),
                  "info": ("#eef1f5", "#3d4752"), "not-run": ("#f3f3f3", "#777777")}

PREAMBLE = """\
#set document(title: {title})
#set page(paper: "a4", flipped: true, margin: (x: {margin}mm, top: {margin}mm, bottom: 16mm),
  footer: context align(right, text(size: 8pt, fill: luma(110), counter(page).display("1 / 1", both: true))))
#set text(font: ({fonts}), size: 10pt, lang: "en", hyphenate: false)
#set par(justify: false, leading: 0.55em)
#show raw: set text(font: "DejaVu Sans Mono")
#show heading: set text(fill: rgb("#1b1f24"))
#show heading.where(level: 1): it => block(width: 100%, above: 18pt, below: 8pt, inset: (bottom: 3pt),
  stroke: (bottom: 1.5pt + rgb("#3b6ea5")), text(size: 14.5pt, it.body))
#show heading.where(level: 2): it => block(above: 12pt, below: 6pt, text(size: 11.5pt, it.body))
#set table(stroke: 0.5pt + rgb("#c9d1db"), inset: (x: 3pt, y: 2.2pt),
  fill: (x, y) => if y == 0 {{ rgb("#e9eff6") }})
#show table: set text(size: 8pt)
#show table: set par(leading: 0.4em)
#show table.cell.where(y: 0): set text(weight: "semibold")
#let ect-palette = ({palette})
#let ect-status(cls, body) = {{
  let (bg, fg) = ect-palette.at(cls, default: ect-palette.info)
  table.cell(fill: rgb(bg), align: center,
    text(fill: rgb(fg), weight: if cls == "info" or cls == "not-run" {{ "regular" }} else {{ "semibold" }},
      style: if cls == "not-run" {{ "italic" }} else {{ "normal" }}, body))
}}
#let ect-num(body) = table.cell(align: right, text(font: "DejaVu Sans Mono", size: 7.2pt, body))
#let ect-badge(cls, body) = {{
  let (bg, fg) = ect-palette.at(cls, default: ect-palette.info)
  box(fill: rgb(bg), inset: (x: 6pt, y: 3pt), radius: 2pt, text(fill: rgb(fg), weight: "semibold", body))
}}
#let ect-title(body) = block(below: 4pt, text(size: 20pt, weight: "bold", body))
#let ect-sub(body) = block(below: 10pt, text(fill: luma(85), body))
#let ect-note(body) = block(above: 6pt, below: 8pt, text(size: 9pt, fill: luma(68), body))
#let ect-pre(body) = block(width: 100%, fill: rgb("#f6f8fa"), stroke: 0.5pt + rgb("#e1e5ea"), inset: 6pt,
  text(size: 7.5pt, raw(block: true, body)))
#let ect-figure(path, width, alt, caption) = block(breakable: false, above: 8pt, below: 14pt, {{
  block(stroke: 0.5pt + rgb("#e1e5ea"), image(path, width: width, alt: alt))
  v(3pt)
  text(size: 9pt, fill: luma(68), caption)
}})
"""


def tstr(text) -> str:
    """`text` as a Typst string literal (read verbatim, never as markup)."""
    out = []
    for ch in "" if text is None else str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000:
            out.append(f"\\u{{{ord(ch):x}}}" if not 0xD800 <= ord(ch) < 0xE000 else "\\u{fffd}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def tcontent(text) -> str:
    """`text` as a Typst expression of verbatim text (NFC). A combining mark that has no precomposed
    form (the bar of ρ̄) is set in a box of its own: shaped with its base letter, the two glyphs
    form one cluster, and the PDF's glyph-to-Unicode map (one entry per glyph) then gives the base
    letter the cluster's text everywhere, so 'ρ(0)' would be read back as 'ρ̄(0)'. Set apart, the
    zero-width mark still sits over the letter and each glyph reads back as itself."""
    text = unicodedata.normalize("NFC", "" if text is None else str(text))
    if not any(unicodedata.combining(ch) for ch in text):
        return tstr(text)
    parts, run = [], ""
    for ch in text:
        if unicodedata.combining(ch):
            if run:
                parts.append(tstr(run))
                run = ""
            parts.append(f"box({tstr(ch)})")
        else:
            run += ch
    if run:
        parts.append(tstr(run))
    return "(" + " + ".join(parts) + ")" if len(parts) > 1 else parts[0]


# ------------------------------------------------------------------------------ HTML tree

class Node:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag: str, attrs: dict | None = None):
        self.tag, self.attrs, self.children = tag, attrs or {}, []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        """The text of the node and its descendants, whitespace collapsed as a browser does."""
        return re.sub(r"\s+", " ", self.raw_text()).strip()

    def raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: ("" if v is None else v) for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: ("" if v is None else v) for k, v in attrs}))

    def handle_endtag(self, tag):
        for k in range(len(self.stack) - 1, 0, -1):
            if self.stack[k].tag == tag:
                del self.stack[k:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    p = _TreeBuilder()
    p.feed(text)
    p.close()
    return p.root


def _find(node: Node, tag: str) -> Node | None:
    for c in node.children:
        if isinstance(c, Node):
            if c.tag == tag:
                return c
            hit = _find(c, tag)
            if hit is not None:
                return hit
    return None


def _all(node: Node, tag: str):
    for c in node.children:
        if isinstance(c, Node):
            if c.tag == tag:
                yield c
            else:
                yield from _all(c, tag)


# ------------------------------------------------------------------------------ HTML -> Typst

def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return (w, h) if w and h else None
    return None


def _span(cell: Node) -> int:
    value = str(cell.attrs.get("colspan") or "1").strip()
    return max(1, int(value)) if value.isdigit() else 1


class _Converter:
    def __init__(self):
        self.out: list[str] = []
        self.files: dict[str, bytes] = {}

    # -- blocks
    def block(self, node: Node) -> None:
        pending: list[str] = []        # loose text between blocks becomes a paragraph

        def flush():
            text = re.sub(r"\s+", " ", "".join(pending)).strip()
            pending.clear()
            if text:
                self.out.append(f"#par({tcontent(text)})")

        for c in node.children:
            if isinstance(c, str):
                pending.append(c)
                continue
            if c.tag in ("a", "span", "b", "strong", "i", "em", "code", "small", "sub", "sup", "abbr"):
                pending.append(c.raw_text())
                continue
            flush()
            self.element(c)
        flush()

    def element(self, n: Node) -> None:
        tag = n.tag
        if tag in ("head", "style", "script", "title", "meta", "link", "template"):
            return
        if tag == "h1":
            self.out.append(f"#ect-title({tcontent(n.text())})")
        elif tag in ("h2", "h3", "h4", "h5", "h6"):
            self.out.append(f"#heading(level: {int(tag[1]) - 1}, {tcontent(n.text())})")
        elif tag == "p":
            cls = n.classes
            fn = "ect-sub" if "sub" in cls else "ect-note" if "note" in cls else "par"
            if n.text():
                self.out.append(f"#{fn}({tcontent(n.text())})")
        elif tag == "nav":
            self.out.append("#block(width: 60%, below: 12pt, outline(title: none, depth: 1, indent: 0pt))")
        elif tag == "table":
            self.table(n)
        elif tag == "figure":
            self.figure(n)
        elif tag == "img":
            self.figure(Node("figure", {}), img=n)
        elif tag == "pre":
            self.out.append(f"#ect-pre({tstr(n.raw_text().strip(chr(10)))})")
        elif tag == "div" and "summary" in n.classes:
            badges = [(next((k for k in s.classes if k in STATUS_COLOURS), "info"), s.text())
                      for s in _all(n, "span")]
            items = ", ".join(f"ect-badge({tstr(c)}, {tcontent(t)})" for c, t in badges)
            if badges:
                self.out.append(f"#block(above: 8pt, below: 8pt, {{ ({items},).join(h(8pt)) }})")
        elif tag in ("ul", "ol"):
            items = [li.text() for li in n.children if isinstance(li, Node) and li.tag == "li"]
            if items:
                fn = "enum" if tag == "ol" else "list"
                self.out.append(f"#{fn}({', '.join(tcontent(t) for t in items)},)")
        elif tag == "br":
            return
        else:  # html, body, section, div, and anything else: its content in order
            self.block(n)

    # -- tables
    def table(self, t: Node) -> None:
        head = _find(t, "thead")
        rows = list(_all(head, "tr")) if head is not None else []
        body_rows = [r for r in _all(t, "tr") if all(r is not h for h in rows)]
        if not rows and body_rows and all(isinstance(c, str) or c.tag == "th" for c in body_rows[0].children):
            rows, body_rows = body_rows[:1], body_rows[1:]     # a header row without <thead>
        width = max([sum(_span(c) for c in r.children if isinstance(c, Node) and c.tag in ("td", "th"))
                     for r in rows + body_rows] or [0])
        if width == 0:
            return
        cells = [f"columns: {width}"]
        if rows:
            cells.append("table.header(" + ", ".join(self.cell(c) for r in rows for c in r.children
                                                     if isinstance(c, Node) and c.tag in ("td", "th")) + ")")
        for r in body_rows:
            cells += [self.cell(c) for c in r.children if isinstance(c, Node) and c.tag in ("td", "th")]
        self.out.append("#table(" + ", ".join(cells) + ")")

    @staticmethod
    def cell(c: Node) -> str:
        text = tcontent(c.text())
        cls = c.classes
        status = next((k for k in cls if k in STATUS_COLOURS), None)
        if status:
            body = f"ect-status({tstr(status)}, {text})"
        elif "num" in cls:
            body = f"ect-num({text})"
        else:
            body = text
        span = _span(c)
        if span > 1:
            body = f"table.cell(colspan: {span}, {body})"
        return body

    # -- figures
    def figure(self, fig: Node, img: Node | None = None) -> None:
        img = img if img is not None else _find(fig, "img")
        cap = _find(fig, "figcaption")
        caption = cap.text() if cap is not None else ""
        if img is None:
            if caption:
                self.out.append(f"#ect-note({tcontent(caption)})")
            return
        src = img.attrs.get("src", "")
        m = re.match(r"data:image/(png|jpeg|jpg|gif|svg\+xml|webp);base64,(.*)$", src, re.S)
        if not m:
            raise InputError(f"figure {caption[:60]!r}: image source {src[:40]!r} is not an embedded base64 "
                             "PNG/JPEG/GIF/SVG/WebP data URI; the report's figures must be inside the HTML")
        try:
            data = base64.b64decode(m.group(2), validate=False)
        except (binascii.Error, ValueError):
            raise InputError(f"figure {caption[:60]!r}: its base64 image data is corrupt") from None
        ext = {"jpeg": "jpg", "svg+xml": "svg"}.get(m.group(1), m.group(1))
        name = f"figure-{len(self.files) + 1}.{ext}"
        self.files[name] = data
        size = _png_size(data)
        if size:
            w_px, h_px = size
            width = min(CONTENT_W_MM, FIGURE_MAX_H_MM * w_px / h_px, w_px * PX_MM)
            width_arg = f"{width:.1f}mm"
        else:
            width_arg = "100%"
        self.out.append(f"#ect-figure({tstr(name)}, {width_arg}, {tstr(img.attrs.get('alt', ''))}, {tcontent(caption)})")


def html_to_typst(html_text: str) -> tuple[str, dict[str, bytes]]:
    """The Typst source of the page and the image files it refers to (name -> bytes)."""
    root = parse_html(html_text)
    title_node = _find(root, "title")
    h1 = _find(root, "h1")
    title = (title_node.text() if title_node is not None else "") or (h1.text() if h1 is not None else "") or "report"
    palette = ", ".join(f"{tstr(k)}: ({tstr(bg)}, {tstr(fg)})" for k, (bg, fg) in STATUS_COLOURS.items())
    conv = _Converter()
    body = _find(root, "body") or root
    conv.block(body)
    pre = PREAMBLE.format(title=tstr(title), margin=f"{MARGIN_MM:g}", fonts=", ".join(tstr(f) for f in FONTS),
                          palette=palette)
    return pre + "\n" + "\n".join(conv.out) + "\n", conv.files


# ------------------------------------------------------------------------------ compile

def _timestamp() -> int | None:
    """SOURCE_DATE_EPOCH (reproducible builds) when set, else None (the compiler's clock)."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(sde) if sde.isdigit() else None


def compile_pdf(source: str, files: dict[str, bytes], pdf_path, what: str = "the report to PDF") -> None:
    """Compile Typst `source` (with `files` beside it) to pdf_path; one InputError on failure."""
    try:
        import typst
    except ImportError:
        raise InputError("the PDF report needs the Python package 'typst' (pip install typst), "
                         "or choose the chromium renderer") from None
    pdf_path = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="ectem-typst-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        main = Path(tmp) / "report.typ"
        main.write_text(source, encoding="utf-8")
        # SOURCE_DATE_EPOCH, when set, fixes the PDF's dates (the timestamp argument exists from typst 0.15)
        stamp = {"timestamp": _timestamp()} if _timestamp() is not None else {}
        try:
            typst.compile(str(main), output=str(pdf_path), root=tmp, font_paths=[], ignore_system_fonts=True,
                          format="pdf", **stamp)
        except RuntimeError as e:        # typst.TypstError and the binding's I/O errors
            msg = getattr(e, "message", None) or str(e)
            msg = " ".join(str(msg).split())
            raise InputError(f"typst could not render {what}: {msg}") from None
    if not pdf_path.exists() or pdf_path.read_bytes()[:5] != b"%PDF-":
        raise InputError(f"typst wrote no PDF when rendering {what} ({pdf_path})")


def print_pdf_typst(html_path, pdf_path, what: str | None = None) -> None:
    """Render html_path (a report written by html.document) to pdf_path with Typst; `what` names
    the document in error messages (default: the HTML file's name)."""
    html_path = Path(html_path)
    try:
        text = html_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the HTML report {html_path}: {e}") from None
    source, files = html_to_typst(text)
    compile_pdf(source, files, pdf_path, what=what or f"{html_path.name} to PDF")
