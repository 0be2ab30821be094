"""Small HTML building blocks for the validation report: escaped tables, embedded PNG
figures (base64 data URIs), preformatted text and the inline stylesheet. No network
resources: everything the page shows is inside the one file."""
from __future__ import annotations

import base64
import html
import math

STATUS_CLASSES = ("pass", "warn", "fail", "info", "not-run")

CSS = """
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt;
       color: #1b1f24; margin: 0 auto; max-width: 1180px; padding: 18px 22px; line-height: 1.35; }
h1 { font-size: 20pt; margin: 0 0 4px 0; }
h2 { font-size: 14.5pt; border-bottom: 2px solid #3b6ea5; padding-bottom: 3px; margin-top: 26px;
     page-break-after: avoid; }
h3 { font-size: 11.5pt; margin: 16px 0 6px 0; page-break-after: avoid; }
p.sub { color: #555; margin: 0 0 10px 0; }
p.note, div.note { color: #444; font-size: 9.5pt; }
table { border-collapse: collapse; margin: 6px 0 12px 0; font-size: 9pt; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #c9d1db; padding: 2px 6px; vertical-align: top; }
th { background: #e9eff6; text-align: left; font-weight: 600; }
td.num { text-align: right; font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; white-space: nowrap; }
td.pass { background: #d9f2dd; color: #135c22; font-weight: 600; text-align: center; }
td.warn { background: #fff1c9; color: #7a5a00; font-weight: 600; text-align: center; }
td.fail { background: #f9d6d5; color: #8c1d18; font-weight: 600; text-align: center; }
td.info { background: #eef1f5; color: #3d4752; text-align: center; }
td.not-run { background: #f3f3f3; color: #777; text-align: center; font-style: italic; }
figure { margin: 8px 0 16px 0; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #e1e5ea; }
figcaption { font-size: 9pt; color: #444; margin-top: 3px; }
pre { background: #f6f8fa; border: 1px solid #e1e5ea; padding: 6px 8px; font-size: 8pt;
      white-space: pre-wrap; word-break: break-all; }
.summary { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; }
.summary span { padding: 3px 10px; border-radius: 3px; font-weight: 600; }
.summary .pass { background: #d9f2dd; color: #135c22; }
.summary .warn { background: #fff1c9; color: #7a5a00; }
.summary .fail { background: #f9d6d5; color: #8c1d18; }
.summary .not-run, .summary .info { background: #eef1f5; color: #3d4752; }
nav ul { margin: 4px 0 0 0; padding-left: 4px; columns: 2; font-size: 9.5pt; list-style: none; }
section { page-break-before: auto; }
@media print { body { max-width: none; padding: 0; } h2 { page-break-before: auto; }
               a { color: inherit; text-decoration: none; } }
"""


def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def fmt(value, digits: int = 6) -> str:
    """A number for a table cell: `digits` significant digits, '—' for missing, 'nan'/'inf' kept."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


class Cell:
    """A table cell with an explicit CSS class (e.g. a pass/warn/fail status)."""

    def __init__(self, text, cls: str = "", raw: bool = False):
        self.text, self.cls, self.raw = text, cls, raw


def status_cell(status: str) -> Cell:
    cls = status.replace(" ", "-") if status.replace(" ", "-") in STATUS_CLASSES else "info"
    return Cell(status, cls)


def table(headers: list[str], rows: list[list], table_id: str = "", digits: int = 6) -> str:
    """An HTML table; numbers are formatted with `digits` significant digits and right-aligned."""
    out = [f'<table id="{esc(table_id)}">' if table_id else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for v in row:
            if isinstance(v, Cell):
                body = v.text if v.raw else esc(v.text)
                out.append(f'<td class="{esc(v.cls)}">{body}</td>' if v.cls else f"<td>{body}</td>")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(f'<td class="num">{esc(fmt(v, digits))}</td>')
            else:
                out.append(f"<td>{esc(fmt(v, digits) if v is None else v)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def png_figure(png: bytes, caption: str, alt: str, fig_id: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    ident = f' id="{esc(fig_id)}"' if fig_id else ""
    return (f'<figure{ident}><img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


def para(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{esc(text)}</p>'


def section(sec_id: str, title: str, body: str) -> str:
    return f'<section id="{esc(sec_id)}"><h2>{esc(title)}</h2>{body}</section>'


def document(title: str, subtitle: str, nav: list[tuple[str, str]], body: str) -> str:
    items = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t in nav)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><p class=\"sub\">{esc(subtitle)}</p><nav><ul>{items}</ul></nav>"
            f"{body}</body></html>\n")
