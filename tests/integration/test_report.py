"""Validation report (ectem_core.deliver.report): built from the shared small pipeline run with the
default PDF renderer (the typst wheel: no browser), its PDF read back with pypdf and compared
with the HTML; the same HTML also rendered in real headless Chromium (screenshot, image check in
the live DOM), printed to PDF by it and read back with poppler (pdftoppm, pdftotext).

Chromium and poppler-utils come from Debian; they are installed with apt-get when missing and
only the tests that need them are skipped (with the reason) if that is impossible. The stage-5
benchmark CSVs are written here from real computations (PySCF RHF/6-31G LiH and ECT-EAM scans of
the small bundle) in the format the benchmark stage writes.
"""
from __future__ import annotations

import base64
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, VENV_BIN, ectem_cmd  # noqa: E402

from ectem_core.deliver.report.builder import SECTIONS
from ectem_core.elements import HARTREE_EV, experimental_ea_ev, experimental_ip_ev
from ectem_core.errors import InputError
from ectem_core.io import read_json

SMALL_CONFIG = REPO / "tests" / "data" / "small.yaml"
TITLES = ["Verdict", "Run summary and provenance", "Atomic states", "Density fits", "Embedding concordance",
          "The potential", "Dissociation and charge benchmarks", "Crystals"]
TOOLS = {"chromium": "chromium", "pdftoppm": "poppler-utils", "pdftotext": "poppler-utils"}
LIH_R = [2.5, 2.9, 3.3, 3.7, 4.5]


# ------------------------------------------------------------------------------ tools

def _install_tools() -> str | None:
    """apt-get install what is missing; the reason it is impossible, or None when all are there."""
    missing = sorted({pkg for exe, pkg in TOOLS.items() if shutil.which(exe) is None})
    if not missing:
        return None
    if shutil.which("apt-get") is None:
        return f"{', '.join(missing)} missing and apt-get is not available"
    if os.geteuid() != 0:
        return f"{', '.join(missing)} missing and not running as root (cannot apt-get install)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-q", *missing], ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", *missing]):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        if r.returncode == 0 and cmd[1] == "install":
            break
    still = [exe for exe in TOOLS if shutil.which(exe) is None]
    return f"apt-get install {' '.join(missing)} did not provide {', '.join(still)}" if still else None


def _chromium(args: list[str], tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    profile = tmp / f"chromium-profile-{len(list(tmp.glob('chromium-profile-*')))}"
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, HOME=str(tmp)))


# ------------------------------------------------------------------------------ benchmark CSVs

def _pyscf_lih() -> tuple[list[float], list[float], list[float]]:
    """RHF/6-31G LiH energies (hartree) at LIH_R, binding vs UHF atoms, Mulliken charge on Li."""
    from pyscf import gto, scf

    def atom(sym):
        m = gto.M(atom=f"{sym} 0 0 0", basis="6-31g", spin=1, verbose=0)
        return scf.UHF(m).run(conv_tol=1e-10).e_tot

    e_atoms = atom("Li") + atom("H")
    energies, qli = [], []
    for r in LIH_R:
        mol = gto.M(atom=f"Li 0 0 0; H 0 0 {r}", unit="bohr", basis="6-31g", verbose=0)
        mf = scf.RHF(mol).run(conv_tol=1e-10)
        energies.append(float(mf.e_tot))
        qli.append(float(mf.mulliken_pop(verbose=0)[1][0]))
    return energies, [e - e_atoms for e in energies], qli


def _parabola_min(r, e):
    """Re, De and the curvature d²E/dR² from a parabola through the lowest point and its
    neighbours; the lowest grid point itself (curvature None) when there is no interior minimum."""
    k = int(np.argmin(e))
    if 0 < k < len(r) - 1:
        c = np.polyfit(r[k - 1:k + 2], e[k - 1:k + 2], 2)
        re = -c[1] / (2 * c[0])
        if c[0] > 0 and r[k - 1] <= re <= r[k + 1]:
            return float(re), float(-np.polyval(c, re)), float(2 * c[0])
    return float(r[k]), float(-e[k]), None


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    def cell(v):
        if v is None:
            return ""
        return f"{v:.12g}" if isinstance(v, float) else str(v)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([",".join(header)] + [",".join(cell(v) for v in row) for row in rows]) + "\n")


def write_lih_benchmarks(work: Path, bundle: Path) -> dict:
    """results/benchmarks/LiH/*.csv and sensitivity.csv from real numbers; returns them for checks."""
    from ectem_core.deliver.report.curves import scan_rows, variant_model
    from ectem_core.potential import load_potential
    from ectem_core.potential.scan import scan

    e_ref, b_ref, q_mull = _pyscf_lih()
    r = np.array(LIH_R)
    models = {}
    for name, kw in (("ectem_pure", dict(model_name="ectem", variant="pure")),
                     ("qeq", dict(model_name="qeq")), ("eam", dict(model_name="eam"))):
        models[name] = [scan(str(bundle), "Li-H", x, x + 1e-9, 2, **kw)[0] for x in LIH_R]
    # the resonance variant on the same pair tables (one table build per bundle)
    base = load_potential(str(bundle))
    models["ectem_resonance"] = scan_rows(variant_model(base, "resonance", {"background": "overlap", "proton": False}),
                                          base, "Li", "H", LIH_R, "ectem")
    header = ["r_bohr", "energy_ref_hartree", "binding_ref_hartree"]
    for m in models:
        header += [f"binding_{m}_hartree"] + ([f"q_A_{m}"] if m != "eam" else [])
    rows = []
    for k, x in enumerate(LIH_R):
        row = [x, e_ref[k], b_ref[k]]
        for m, rr in models.items():
            row += [rr[k]["binding_energy_hartree"]] + ([rr[k]["q_A"]] if m != "eam" else [])
        rows.append(row)
    d = work / "results" / "benchmarks" / "LiH"
    _write_csv(d / "curves.csv", header, rows)
    mu = 1822.888486 * 7.016003 * 1.007825 / (7.016003 + 1.007825)  # LiH reduced mass, electron masses
    spectro = {}
    for m, e, q in [("reference", b_ref, q_mull)] + [(m, [x["binding_energy_hartree"] for x in rr],
                                                         [x["q_A"] for x in rr]) for m, rr in models.items()]:
        re, de, k2 = _parabola_min(r, np.array(e))
        we = math.sqrt(k2 / mu) * 219474.6313632 if k2 else None
        spectro[m] = [re, de, we, None, float(np.interp(re, r, q))]
    _write_csv(d / "spectroscopic.csv", ["model", "re_bohr", "de_hartree", "we_cm1", "limit_hartree", "q_A_at_re"],
               [[m, *v] for m, v in spectro.items()])
    qc = [x["q_A"] for x in models["ectem_pure"]]
    _write_csv(d / "charges.csv", ["r_bohr", "method", "q_A", "q_B"],
               [[x, "mulliken_rhf", q_mull[k], -q_mull[k]] for k, x in enumerate(LIH_R)]
               + [[x, "ectem_pure_cpe", qc[k], -qc[k]] for k, x in enumerate(LIH_R)])
    # Mulliken RHF charges stand in for the density-weight charges of the benchmark stage
    _write_csv(d / "consistency.csv", ["r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit", "disagreement",
                                       "fit_residual", "condition_number", "regularization", "distance_from_cpe"],
               [[x, q_mull[k], qc[k], qc[k], q_mull[k] - qc[k], None, None, None, 0.0] for k, x in enumerate(LIH_R)])
    _write_csv(work / "results" / "benchmarks" / "sensitivity.csv",
               ["option", "value", "mol", "re_bohr", "de_hartree", "q_A_at_re"],
               [["variant", m, "LiH", spectro[m][0], spectro[m][1], spectro[m][4]] for m in ("ectem_pure", "ectem_resonance")])
    return {"spectro": spectro, "disagreement": [q_mull[k] - qc[k] for k in range(len(LIH_R))]}


# ------------------------------------------------------------------------------ HTML tables

class _Tables(HTMLParser):
    """Tables by id: list of rows, each a list of cell texts (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cur, self._row, self._cell = {}, None, None, None
        self.imgs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._cur = self.tables.setdefault(a.get("id") or f"anon{len(self.tables)}", [])
        elif tag == "tr" and self._cur is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.imgs.append(a.get("src", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._cur.append(self._row)
            self._row = None
        elif tag == "table":
            self._cur = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def row_of(table: list[list[str]], **match) -> dict:
    head = table[0]
    for row in table[1:]:
        d = dict(zip(head, row))
        if all(d.get(k) == v for k, v in match.items()):
            return d
    raise AssertionError(f"no row with {match} in table with header {head}")


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def tools():
    why = _install_tools()
    if why:
        pytest.skip(f"Chromium/poppler-utils are not installed and could not be installed: {why}")


@pytest.fixture(scope="module")
def report_run(small_workdir, tmp_path_factory):
    """The report of a copy of the shared run (plus LiH benchmark CSVs), Li-F scanned on a coarse
    grid, HTML and PDF written as the pipeline's report rule writes them (default renderer: typst)."""
    from ectem_core.deliver.report import ScanGrid, build_report
    from ectem_core.deliver.report.pdf import render_pdf

    work = tmp_path_factory.mktemp("report")
    shutil.copytree(small_workdir / "results", work / "results")
    shutil.rmtree(work / "results" / "report", ignore_errors=True)
    # the bundle itself is read in place (a symlink), so the potential's pair tables cached by other
    # modules of the session for that file are reused
    (work / "results" / "bundle" / "small.json").unlink()
    (work / "results" / "bundle" / "small.json").symlink_to(small_workdir / "results" / "bundle" / "small.json")
    bench = write_lih_benchmarks(work, work / "results" / "bundle" / "small.json")
    # the crystal stage, kept small: rock-salt LiF under ECT-EAM and plain EAM, its slab, 4 MD steps
    from ectem_core.crystals.settings import CrystalSettings
    from ectem_core.crystals.stage import run_stage

    shutil.rmtree(work / "results" / "crystals", ignore_errors=True)
    run_stage(work / "results" / "bundle" / "small.json", ["H", "Li", "F"],
              CrystalSettings(compounds=("LiF",), elements=(), binary_structures=("rocksalt",), models=("ectem", "eam"),
                              md_steps=4), work / "results" / "crystals" / "small", progress=lambda m: None)
    config = yaml.safe_load(SMALL_CONFIG.read_text())
    html, pdf = work / "results" / "report" / "small.html", work / "results" / "report" / "small.pdf"
    build_report(work, config, html, pdf, grid=ScanGrid(n_inner=9, n_outer=8), pairs=["Li-F"])
    again = work / "typst-again.pdf"
    t0 = time.perf_counter()
    assert render_pdf(html, again, "typst") == "typst"
    render_s = time.perf_counter() - t0
    text = html.read_text()
    return {"work": work, "html": html, "pdf": pdf, "text": text, "tables": tables_of(text), "bench": bench,
            "bundle": read_json(work / "results" / "bundle" / "small.json"), "config": config,
            "typst_again": again, "typst_s": render_s}


@pytest.fixture(scope="module")
def built(report_run, tools):
    """report_run, with `pdf` the same HTML printed by headless Chromium (the optional renderer)."""
    from ectem_core.deliver.report.pdf import render_pdf

    pdf = report_run["work"] / "results" / "report" / "small-chromium.pdf"
    assert render_pdf(report_run["html"], pdf, "chromium") == "chromium"
    return {**report_run, "pdf": pdf, "typst_pdf": report_run["pdf"]}


# ------------------------------------------------------------------------------ tests

def test_files_are_written_and_self_contained(report_run):
    built = report_run
    text = built["text"]
    assert built["pdf"].read_bytes()[:5] == b"%PDF-"
    assert not list(built["html"].parent.glob(".*tmp*")), "temporary files left behind"
    # no network: every src/href is a data URI or an in-page anchor
    refs = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert refs and all(r.startswith("data:image/png;base64,") or r.startswith("#") for r in refs), refs[:5]
    assert "<link" not in text and "@import" not in text and "url(" not in text
    for title in TITLES:
        assert f"{title}</h2>" in text
    # 3 fit figures, 3 embedding figures, 1 pair (Li-F), LiH curves + consistency, crystal EOS + MD
    assert len(built["tables"].imgs) == 11


def test_chromium_screenshot_is_not_blank(built, tmp_path):
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    run = _chromium([f"--screenshot={shot}", "--window-size=1280,1600", "--hide-scrollbars",
                     built["html"].as_uri()], tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-500:]
    img = mpimg.imread(shot)
    gray = img[..., :3].mean(axis=2)
    assert img.shape[0] >= 1000 and img.shape[1] >= 1200
    assert (gray < 0.9).mean() > 0.02   # text and tables, not an empty white page
    assert gray.std() > 0.05


def _image_check(html_text: str, tmp: Path, name: str) -> tuple[int, int]:
    script = ("<script>window.addEventListener('load', function () {"
              "var imgs = Array.from(document.images);"
              "var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;"
              "var d = document.createElement('div'); d.id = 'imgcheck';"
              "d.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + bad; document.body.appendChild(d);});"
              "</script></body>")
    page = tmp / name
    page.write_text(html_text.replace("</body>", script))
    run = _chromium(["--dump-dom", "--virtual-time-budget=10000", page.as_uri()], tmp)
    m = re.search(r"IMAGES (\d+) BROKEN (\d+)", run.stdout)
    assert m, f"no image-check marker in the DOM dump: {run.stderr[-500:]}"
    return int(m.group(1)), int(m.group(2))


def test_no_broken_images_in_chromium(built, tmp_path):
    n, bad = _image_check(built["text"], tmp_path, "check.html")
    assert n == len(built["tables"].imgs) and bad == 0
    # the check can fail: one corrupt PNG is reported as broken
    corrupt = re.sub(r'src="data:image/png;base64,[^"]{20}', 'src="data:image/png;base64,AAAAAAAAAAAAAAAAAAAA',
                     built["text"], count=1)
    n2, bad2 = _image_check(corrupt, tmp_path, "corrupt.html")
    assert (n2, bad2) == (n, 1)


def test_tables_hold_the_source_numbers(report_run):
    built = report_run
    t = built["tables"].tables
    res = built["work"] / "results"
    li0 = read_json(res / "atoms" / "Li" / "Li0.json")
    row = row_of(t["states-Li"], state="Li0")
    assert float(row["energy (Ha)"]) == pytest.approx(li0["energy_hartree"], rel=1e-9)
    fm1 = read_json(res / "atoms" / "F" / "F-1.json")
    row = row_of(t["states-F"], state="F-1")
    assert float(row["ΔE (Ha)"]) == pytest.approx(fm1["delta_e_hartree"], rel=1e-9)
    assert float(row["ΔE (eV)"]) == pytest.approx(fm1["delta_e_hartree"] * HARTREE_EV, rel=1e-9)
    f0 = read_json(res / "fits" / "F" / "F0.json")
    row = row_of(t["fits-table"], state="F0")
    assert float(row["RDF residual"]) == pytest.approx(f0["metrics"]["rdf_residual"], rel=1e-5)
    assert float(row["κ (bohr⁻¹)"]) == pytest.approx(f0["kappa"], rel=1e-5)
    emb = read_json(res / "embedding" / "Li" / "Li0.json")
    row = row_of(t["embedding-table"], state="Li0")
    assert row["form"] == emb["form"]
    if emb["form"] == "concordance":
        assert float(row["a"]) == pytest.approx(emb["a"], rel=1e-4)
    prov = dict(r for r in t["provenance-table"][1:])
    assert prov["parameters_sha256"] == built["bundle"]["parameters_sha256"]
    assert prov["config hash (this config)"] == prov["config hash (bundle)"] == built["bundle"]["provenance"]["config_hash"]
    # benchmark tables: the numbers of the CSVs written above
    for model, vals in built["bench"]["spectro"].items():
        row = row_of(t["spectroscopic-LiH"], model=model)
        assert float(row["Re (bohr)"]) == pytest.approx(vals[0], rel=1e-5)
        assert float(row["De (Ha)"]) == pytest.approx(vals[1], rel=1e-5)
    assert row_of(t["spectroscopic-LiH"], model="reference")["limit (Ha)"] == "—"  # empty stays empty
    assert len(t["charges-LiH"]) == 1 + 2 * len(LIH_R) and len(t["sensitivity-table"]) == 3


def _verdict(t, check, item):
    return row_of(t["verdict-table"], check=check, item=item)


def test_verdict_follows_physics_and_published_values(report_run):
    built = report_run
    t = built["tables"].tables
    res = built["work"] / "results"
    # IP/EA against NIST ASD / Rienstra-Kiracofe 2002, graded with the stated thresholds
    for el in ("H", "Li", "F"):
        neutral = read_json(res / "atoms" / el / f"{el}0.json")
        for what, key, ref in (("ionization energy vs experiment", "ionization_energy_hartree", experimental_ip_ev(el)),
                               ("electron affinity vs experiment", "electron_affinity_hartree", experimental_ea_ev(el))):
            d = neutral[key] * HARTREE_EV - ref
            row = _verdict(t, what, el)
            assert float(row["value"]) == pytest.approx(d, abs=1e-4)
            assert row["status"] == ("pass" if abs(d) <= 0.1 else "warn" if abs(d) <= 0.3 else "fail")
    # fits: N and the cusp are exact constraints (docs/model.md §2)
    assert row_of(t["verdict-table"], check="density fit: electron count")["status"] == "pass"
    assert float(row_of(t["verdict-table"], check="density fit: Kato cusp")["value"]) <= 1e-8
    # R -> infinity: neutral atoms, q = 0 exactly; QEq keeps a charge (Rappé–Goddard 1991: ~0.4 for LiF)
    row = _verdict(t, "dissociation limit: |q_Li| at 40 bohr", "Li-F")
    assert float(row["value"]) <= 1e-8 and row["status"] == "pass"
    assert _verdict(t, "dissociation limit: |E − E(atoms)| at 40 bohr", "Li-F")["status"] == "pass"
    assert float(_verdict(t, "QEq baseline: q_Li at 40 bohr", "Li-F")["value"]) > 0.3
    # the pure model switches where the Coulomb attraction of the ion pair equals the CT gap
    states = {s["state_id"]: s for s in built["bundle"]["states"]}
    r_c = 1.0 / (states["Li+1"]["delta_e_hartree"] + states["F-1"]["delta_e_hartree"])
    sw = row_of(t["switch-table"], pair="Li-F")
    assert float(sw["R_c = 1/gap (bohr)"]) == pytest.approx(r_c, rel=1e-4)
    assert float(sw["switch ectem_pure (bohr)"]) == pytest.approx(r_c, rel=0.02)
    # the ionic well: q_Li = +1 at Re for the pure model (whole-number charges, docs/model.md §4)
    assert float(row_of(t["potential-table"], pair="Li-F", model="ectem_pure")["q_A at Re"]) == pytest.approx(1.0, abs=1e-6)
    # benchmark consistency graded from the CSV numbers
    worst = max(abs(x) for x in built["bench"]["disagreement"])
    row = _verdict(t, "density vs energy weights: max |disagreement|", "LiH")
    assert float(row["value"]) == pytest.approx(worst, rel=1e-3)
    assert row["status"] == ("pass" if worst <= 0.05 else "warn" if worst <= 0.2 else "fail")


def test_pdf_pages_and_text(built, tmp_path):
    run = subprocess.run(["pdftoppm", "-r", "30", "-png", str(built["pdf"]), str(tmp_path / "page")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    import matplotlib.image as mpimg

    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1
    for p in pages:
        gray = mpimg.imread(p)[..., :3].mean(axis=2)
        assert (gray < 0.9).mean() > 0.005, f"{p.name} is blank"
    text = subprocess.run(["pdftotext", "-layout", str(built["pdf"]), "-"], capture_output=True, text=True,
                          timeout=120).stdout
    for title in TITLES:
        assert title in text
    value = row_of(built["tables"].tables["verdict-table"], check="ionization energy vs experiment", item="F")["value"]
    assert value in text


# ------------------------------------------------------------------------------ the PDF without a browser

def _norm(text: str) -> str:
    """NFC, no whitespace at all: the PDF wraps lines and table cells where the HTML does not
    (the typst PDF is set without hyphenation, so wrapping adds nothing else)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def pdf_text(pdf) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(pdf).pages)


def html_content(text: str) -> list[tuple[str, str]]:
    """What the page shows, in its order, as (kind, text): title, subtitle, section titles, h3s,
    notes, figure captions, every table's header cells and the verdict rows' check, item and status
    (read with regular expressions and the tables parser above, not with the code under test)."""
    import html as _html

    def clean(s):
        return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", "", s))).strip()

    out = []
    for m in re.finditer(r"<(h1|h2|h3|figcaption|p|table)\b([^>]*)>(.*?)</\1>", text, re.S):
        tag, attrs, inner = m.groups()
        if tag != "table":
            out.append((tag, clean(inner)))
            continue
        t = tables_of(m.group(0)).tables
        (rows,) = t.values()
        out += [("th", h) for h in rows[0]]
        if 'id="verdict-table"' in attrs:
            for row in rows[1:]:
                d = dict(zip(rows[0], row))
                out += [("verdict", d["check"]), ("verdict", d["item"]), ("verdict", d["status"])]
    return out


def missing_from_pdf(html_text: str, pdf) -> list[tuple[str, str]]:
    """The items of html_content that the PDF's text does not show in the same order."""
    text = _norm(pdf_text(pdf))
    pos, missing = 0, []
    for kind, item in html_content(html_text):
        k = text.find(_norm(item), pos)
        if k < 0:
            missing.append((kind, item))
        else:
            pos = k + len(_norm(item))
    return missing


def test_typst_pdf_shows_the_content_of_the_html(report_run, tmp_path):
    """The PDF of the main job (default renderer: typst, no browser) read back with pypdf."""
    from pypdf import PdfReader

    text, pdf = report_run["text"], report_run["pdf"]
    content = html_content(text)
    kinds = {k for k, _ in content}
    assert {"h1", "h2", "h3", "figcaption", "p", "th", "verdict"} <= kinds
    assert [x for k, x in content if k == "h2"] == [t for _, t in SECTIONS]
    assert len([k for k, _ in content if k == "verdict"]) == 3 * (len(report_run["tables"].tables["verdict-table"]) - 1)
    assert missing_from_pdf(text, pdf) == []
    # every table cell too (numbers as the HTML formats them)
    flat = _norm(pdf_text(pdf))
    cells = [c for rows in report_run["tables"].tables.values() for row in rows[1:] for c in row]
    assert len(cells) > 500 and [c for c in cells if _norm(c) not in flat] == []
    reader = PdfReader(pdf)
    assert reader.metadata.title == re.search(r"<title>(.*?)</title>", text).group(1)
    assert len(reader.pages) >= 5
    for page in reader.pages:                     # A4 landscape
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    # every figure, at the pixel size of its PNG in the HTML
    def png_size(src):
        raw = base64.b64decode(src.split(",", 1)[1])
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")

    embedded = {}          # each image object once (typst < 0.14 lists all images in every page's resources)
    for page in reader.pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            if ref.get_object().get("/Subtype") == "/Image":
                embedded[ref.idnum] = (int(ref.get_object()["/Width"]), int(ref.get_object()["/Height"]))
    assert sorted(embedded.values()) == sorted(png_size(src) for src in report_run["tables"].imgs)
    assert len(embedded) == len(report_run["tables"].imgs) == 11
    # the same HTML renders to the same text again (deterministic, no clock or machine in it)
    assert pdf_text(report_run["typst_again"]) == pdf_text(pdf)
    print(f"typst render of the small report: {report_run['typst_s']:.2f} s, {len(reader.pages)} pages")
    # the check can fail: a PDF of the page without its sensitivity table misses that table's header
    from ectem_core.deliver.report.pdf import render_pdf

    cut = re.sub(r'<h3>Sensitivity</h3><table id="sensitivity-table">.*?</table>', "", text, flags=re.S)
    assert cut != text
    (tmp_path / "cut.html").write_text(cut, encoding="utf-8")
    render_pdf(tmp_path / "cut.html", tmp_path / "cut.pdf", "typst")
    missing = missing_from_pdf(text, tmp_path / "cut.pdf")
    assert ("h3", "Sensitivity") in missing and ("th", "option") in missing


def _without_chromium_env() -> dict:
    from ectem_core.deliver.report.pdf import CANDIDATES

    env = {k: v for k, v in os.environ.items() if k != "ECTEM_CHROMIUM"}
    env["PATH"] = str(VENV_BIN)                  # the venv's bin only: no browser, no system tools
    assert all(shutil.which(c, path=env["PATH"]) is None for c in CANDIDATES), "Chromium in the venv?"
    return env


def test_cli_report_without_chromium_writes_html_and_pdf(report_run, tmp_path):
    out = tmp_path / "out"
    run = subprocess.run(ectem_cmd() + ["report", "--workdir", str(report_run["work"]), "--configfile",
                                        str(SMALL_CONFIG), "--pairs", "Li-F", "--html", str(out / "r.html"),
                                        "--pdf", str(out / "r.pdf")],
                         capture_output=True, text=True, timeout=600, env=_without_chromium_env(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [str(out / "r.html"), str(out / "r.pdf")]
    html = (out / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and (out / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert missing_from_pdf(html, out / "r.pdf") == []
    assert sorted(p.name for p in out.iterdir()) == ["r.html", "r.pdf"]


def test_cli_report_chromium_requested_but_missing_is_one_error_and_no_files(report_run, tmp_path):
    out = tmp_path / "out"
    args = ["report", "--workdir", str(report_run["work"]), "--configfile", str(SMALL_CONFIG), "--pairs", "Li-F",
            "--html", str(out / "r.html"), "--pdf", str(out / "r.pdf")]
    env = _without_chromium_env()
    runs = {"ECTEM_CHROMIUM": subprocess.run(ectem_cmd() + args + ["--pdf-renderer", "chromium"], capture_output=True,
                                             text=True, timeout=300, cwd=tmp_path,
                                             env=dict(env, ECTEM_CHROMIUM=str(tmp_path / "no-such-chromium")))}
    # the config's report.pdf_renderer, with no Chromium on PATH
    cfg = yaml.safe_load(SMALL_CONFIG.read_text())
    cfg["report"] = {"pdf_renderer": "chromium"}
    (tmp_path / "chromium.yaml").write_text(yaml.safe_dump(cfg))
    args[4] = str(tmp_path / "chromium.yaml")
    runs["not installed"] = subprocess.run(ectem_cmd() + args, capture_output=True, text=True, timeout=300,
                                           cwd=tmp_path, env=env)
    for words, run in runs.items():
        assert run.returncode == 2 and run.stdout == "", (words, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "chromium" in lines[0].lower(), lines
        assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    # a renderer that does not exist is a usage error of the command line
    bad = subprocess.run(ectem_cmd() + args + ["--pdf-renderer", "weasyprint"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "invalid choice: 'weasyprint'" in bad.stderr


def test_benchmarks_section_says_not_run_without_data(tmp_path):
    from ectem_core.deliver.report.builder import NOT_RUN, benchmarks_section
    from ectem_core.deliver.report.checks import benchmark_checks
    from ectem_core.deliver.report.collect import load_benchmarks

    config = yaml.safe_load(SMALL_CONFIG.read_text())
    config.pop("molecules", None)
    # no molecules section: the default list is every pair of the set (H, Li, F), none computed yet
    assert load_benchmarks(tmp_path, config) == ([], None, ["H2", "Li2", "F2", "LiH", "HF", "LiF"])
    config["molecules"] = {"names": []}        # stage 5 switched off
    mols, sens, configured = load_benchmarks(tmp_path, config)
    assert (mols, sens, configured) == ([], None, [])
    assert NOT_RUN in benchmarks_section(mols, sens, configured)
    rows = benchmark_checks(mols, configured)
    assert {r["status"] for r in rows} == {"not run"} and all(r["value"] is None for r in rows)
    assert all(r["note"] == "no molecules configured" for r in rows)
    # configured but not computed yet: still no numbers, and the section says which molecule is missing
    config["molecules"] = {"names": ["LiH"]}
    mols, sens, configured = load_benchmarks(tmp_path, config)
    text = benchmarks_section(mols, sens, configured)
    assert "not run" in text and "LiH" in text
    assert {r["status"] for r in benchmark_checks(mols, configured)} == {"not run"}


def test_bad_inputs_give_one_clear_error_and_no_output(small_workdir, tmp_path, monkeypatch):
    from ectem_core.deliver.report import build_report

    config = yaml.safe_load(SMALL_CONFIG.read_text())
    out = tmp_path / "out"
    # no pipeline run in the workdir
    with pytest.raises(InputError, match=r"bundle/small.json does not exist; run the pipeline"):
        build_report(tmp_path / "empty", config, out / "r.html", out / "r.pdf")
    work = tmp_path / "w"
    shutil.copytree(small_workdir / "results", work / "results")
    shutil.rmtree(work / "results" / "report", ignore_errors=True)
    # a benchmark CSV without a required column
    bad = work / "results" / "benchmarks" / "LiF" / "spectroscopic.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("model,re_bohr,de_hartree\nreference,2.955,0.21\n")
    with pytest.raises(InputError, match=r"spectroscopic.csv lacks column 'we_cm1'"):
        build_report(work, config, out / "r.html", out / "r.pdf", pairs=[])
    bad.write_text("model,re_bohr,de_hartree,we_cm1,limit_hartree,q_A_at_re\nreference,short,0.21,910,0,0.8\n")
    with pytest.raises(InputError, match=r"line 2: column 're_bohr' = 'short' is not a number"):
        build_report(work, config, out / "r.html", out / "r.pdf", pairs=[])
    shutil.rmtree(bad.parent.parent)
    # Chromium requested but missing: neither file is left behind (checked before the report is computed)
    monkeypatch.setenv("ECTEM_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(InputError, match=r"ECTEM_CHROMIUM"):
        build_report(work, config, out / "r.html", out / "r.pdf", pairs=[], pdf_renderer="chromium")
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(InputError, match=r"PDF renderer 'latex' is not one of typst, chromium"):
        build_report(work, config, out / "r.html", out / "r.pdf", pairs=[], pdf_renderer="latex")
    # HTML only, and HTML + PDF by the default renderer (typst), work without Chromium
    build_report(work, config, out / "r.html", None, pairs=[])
    assert (out / "r.html").read_text().startswith("<!DOCTYPE html>") and not (out / "r.pdf").exists()
    build_report(work, config, out / "r.html", out / "r.pdf", pairs=[])
    assert (out / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.glob(".*"))
    # a typst compile error is one InputError with typst's message; the files of the last good run stay
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from ectem_core.deliver.report import typst_pdf

    real = typst_pdf.html_to_typst

    def broken(text):
        source, files = real(text)
        return source + '\n#image("missing.png")\n', files

    monkeypatch.setattr(typst_pdf, "html_to_typst", broken)
    words = r"typst could not render the PDF report .*/out/r\.pdf: file not found .*missing\.png"
    with pytest.raises(InputError, match=words) as exc:
        build_report(work, config, out / "r.html", out / "r.pdf", pairs=[])
    assert "\n" not in str(exc.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and not list(out.glob(".*"))


def test_cli_report_bad_input_is_one_line(tmp_path):
    from ectem_core import cli
    from ectem_core.cli import report as cli_report

    parser = cli.Parser(prog="ectem")
    sub = parser.add_subparsers(dest="command", parser_class=cli.Parser)
    cli_report.register(sub)
    args = parser.parse_args(["report", "--workdir", str(tmp_path), "--configfile", str(SMALL_CONFIG), "--no-pdf"])
    with pytest.raises(InputError, match="run the pipeline first"):
        args.func(args)
    run = subprocess.run([sys.executable, "-c", "import sys; from ectem_core.cli import main; sys.exit(main())",
                          "report", "--workdir", str(tmp_path), "--configfile", str(tmp_path / "none.yaml")],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1 and "does not exist" in run.stderr


def test_crystal_section_shows_model_and_experiment_with_sources_and_verdict_rows(report_run):
    """Section 8 from results/crystals/small/crystals.json: the ECT-EAM and plain-EAM rows of rock-salt
    LiF, the experimental row (Kittel a0 = 4.028 Å, the source named), the slab and MD tables, and
    verdict rows grading a0 / E_coh / B against experiment and the NVE conservation."""
    import json

    t = report_run["tables"].tables
    data = json.loads((report_run["work"] / "results" / "crystals" / "small" / "crystals.json").read_text())
    rows = t["crystals-table"]
    ect = row_of(rows, formula="LiF", structure="rocksalt", model="ectem")
    want = next(r for r in data["rows"] if r["model"] == "ectem")
    assert float(ect["a0 (Å)"]) == pytest.approx(want["a0_angstrom"], rel=1e-3)
    exp = row_of(rows, formula="LiF", model="experiment")
    assert float(exp["a0 (Å)"]) == pytest.approx(4.028) and "Kittel" in exp["weights / notes"]
    assert len(t["crystal-slabs"]) == 3 and len(t["crystal-md"]) == 3     # header + 2 models / 2 temperatures
    verdict = t["verdict-table"]
    checks = {r[0] for r in verdict[1:]}
    assert {"crystal a0 vs experiment (ectem)", "crystal E_coh vs experiment (ectem)", "NVE energy conservation",
            "dissociation MD: q → 0"} <= checks
