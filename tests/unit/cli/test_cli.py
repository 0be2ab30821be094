"""The `ectem` command line as a user meets it: every stable command is registered and has
help, bad input gives one error line and exit 2, and the commands that read a bundle agree
with the library and with published QEq parameters (Rappé & Goddard, J. Phys. Chem. 95,
3358 (1991), Table I: χ and J in eV)."""
from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from conftest import _cli_env, ectem_cmd

from ectem_core.cli import COMMANDS

STABLE = ("atom", "fit", "embed", "scan", "bundle", "export", "report", "crosscheck")
COULOMB_EV_ANGSTROM = 14.399645   # e²/(4πε0) in eV·Å (CODATA 2018)
BOHR_ANGSTROM = 0.529177210903


def _run(args, **kw):
    return subprocess.run(ectem_cmd() + list(args), capture_output=True, text=True, env=_cli_env(),
                          timeout=600, **kw)


def test_every_stable_command_is_registered_and_listed_in_help():
    assert set(STABLE) <= set(COMMANDS)
    top = _run(["--help"])
    assert top.returncode == 0
    for name in COMMANDS:
        assert name in top.stdout, name
        sub = _run([name, "--help"])
        assert sub.returncode == 0 and "usage: ectem " + name in sub.stdout, (name, sub.stderr)


def test_unknown_command_and_missing_argument_are_usage_errors():
    bad = _run(["frobnicate"])
    assert bad.returncode == 2 and "frobnicate" in bad.stderr and bad.stdout == ""
    missing = _run(["scan"])
    assert missing.returncode == 2 and "required" in missing.stderr


def test_report_pdf_renderer_flag_config_and_library_agree():
    from ectem_core.cli import report as cli_report
    from ectem_core.config import schema
    from ectem_core.deliver.report.pdf import DEFAULT_RENDERER, RENDERERS

    key = schema()["properties"]["report"]["properties"]["pdf_renderer"]
    assert cli_report.RENDERERS == RENDERERS == tuple(key["enum"]) and key["default"] == DEFAULT_RENDERER == "typst"
    run = _run(["report", "--help"])
    text = " ".join(run.stdout.split())
    assert run.returncode == 0 and "--pdf-renderer {typst,chromium}" in text
    assert "printed by headless Chromium" not in text and "no Chromium needed" not in text


def _scan(bundle, pair, *extra):
    run = _run(["scan", str(bundle), pair, "--csv", *extra])
    assert run.returncode == 0, run.stderr
    return list(csv.DictReader(io.StringIO(run.stdout)))


def test_scan_models_share_the_separated_atom_reference(small_bundle):
    """energy − binding is the sum of the atoms' ground-state energies for every model."""
    refs = set()
    for model in ("ectem", "eam", "qeq"):
        for row in _scan(small_bundle, "Li-F", "--r-min", "3", "--r-max", "40", "--n", "3", "--model", model):
            refs.add(round(float(row["energy_hartree"]) - float(row["binding_energy_hartree"]), 8))
    assert len(refs) == 1


def test_scan_eam_is_neutral_and_vanishes_far_apart(small_bundle):
    rows = _scan(small_bundle, "Li-F", "--r-min", "3", "--r-max", "40", "--n", "3", "--model", "eam")
    assert all(float(r["q_A"]) == 0.0 == float(r["q_B"]) for r in rows)
    assert abs(float(rows[-1]["binding_energy_hartree"])) < 1e-10


def test_scan_qeq_with_published_parameters_has_the_analytic_far_field_charge(small_bundle):
    """Far apart the shielded Coulomb is 1/R, so QEq's charge is Δχ/(J_Li + J_F − 2k/R):
    Table I, χ_Li 3.006, J_Li 4.772, χ_F 10.874, J_F 14.948 eV (QEq's known fractional
    charge at dissociation)."""
    R = 60.0
    row = _scan(small_bundle, "Li-F", "--r-min", "30", "--r-max", str(R), "--n", "2", "--model", "qeq",
                "--qeq-params", "published")[-1]
    k_over_r = COULOMB_EV_ANGSTROM / (R * BOHR_ANGSTROM)
    expected = (10.874 - 3.006) / (4.772 + 14.948 - 2 * k_over_r)
    assert float(row["q_A"]) == pytest.approx(expected, rel=2e-3)
    assert float(row["q_A"]) + float(row["q_B"]) == pytest.approx(0.0, abs=1e-12)


def test_scan_options_proton_and_point_background_are_accepted_and_keep_the_limit(small_bundle):
    for extra in (["--proton"], ["--background", "point"], ["--variant", "thermal", "--proton"]):
        rows = _scan(small_bundle, "H-F", "--r-min", "2", "--r-max", "40", "--n", "2", *extra)
        assert abs(float(rows[-1]["binding_energy_hartree"])) < 1e-8, extra
        w = {k: float(v) for k, v in rows[0].items() if k.startswith("w_H")}
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-9), extra
        assert ("w_H+1" in w) == ("--proton" in extra), (extra, sorted(w))


def test_pack_pull_resolve_verify_and_scan_by_name_at_version(small_bundle, tmp_path):
    store = tmp_path / "store"
    packed = _run(["bundle", "pack", str(small_bundle), "--out", str(tmp_path / "dist"), "--version", "1.2.3"])
    assert packed.returncode == 0, packed.stderr
    archive = next((tmp_path / "dist").glob("*-1.2.3.tar.gz"))
    name = archive.name[: -len("-1.2.3.tar.gz")]
    verified = _run(["bundle", "verify", str(archive), "--json"])
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True and report["problems"] == []
    pulled = _run(["bundle", "pull", str(archive), "--dest", str(store)])
    assert pulled.returncode == 0, pulled.stderr
    resolved = _run(["bundle", "resolve", f"{name}@1.2.3", "--store", str(store)])
    assert resolved.returncode == 0, resolved.stderr
    path = resolved.stdout.strip()
    installed, source = json.loads(open(path).read()), json.loads(small_bundle.read_text())
    assert installed.pop("version") == "1.2.3"
    source.pop("version")
    assert installed == source
    env = dict(_cli_env(), ECTEM_STORE=str(store))
    by_name = subprocess.run(ectem_cmd() + ["scan", f"{name}@1.2.3", "Li-F", "--r-min", "3", "--r-max", "3.5",
                                            "--n", "2", "--csv"], capture_output=True, text=True, env=env, timeout=600)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == _run(["scan", str(small_bundle), "Li-F", "--r-min", "3", "--r-max", "3.5", "--n", "2",
                                   "--csv"]).stdout
    missing = _run(["bundle", "resolve", f"{name}@9.9.9", "--store", str(store)])
    assert missing.returncode == 2 and "9.9.9" in missing.stderr
