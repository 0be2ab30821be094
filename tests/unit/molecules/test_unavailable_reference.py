"""A molecule whose QM reference cannot be made (every SCF rung fails: here two SCF cycles
allowed) ends as 'unavailable' with the reason, through the benchmark files to the report,
instead of stopping the pipeline."""
from __future__ import annotations

import json

import pytest

from ectem_core.deliver.report import checks as C
from ectem_core.deliver.report.builder import benchmarks_section
from ectem_core.deliver.report.collect import load_benchmarks
from ectem_core.errors import ConvergenceError
from ectem_core.molecules.benchmarks import reference_charges, run_benchmark
from ectem_core.molecules.diatomics import molecule, r_grid
from ectem_core.molecules.reference import run_molecule, write_unavailable
from ectem_core.qm.level import Level


def test_unconverged_reference_is_reported_not_fatal(tmp_path):
    mol = molecule("LiH")
    level = Level(method="hf", basis="6-31g", conv_tol=1e-13, max_cycle=2)
    ref_dir = tmp_path / "results" / "molecules" / "LiH"
    with pytest.raises(ConvergenceError) as info:
        run_molecule(mol, level, r_grid(mol, 4), density_rs=(20.0,), out_dir=ref_dir, progress=False)
    rec = write_unavailable(mol, level, str(info.value), ref_dir)
    assert rec["status"] == "unavailable" and "SCF" in rec["reason"]
    assert (ref_dir / "reference.csv").read_text().splitlines()[0].startswith("r_bohr,")
    charges = tmp_path / "results" / "molecules" / "LiH" / "charges.csv"
    assert reference_charges(ref_dir, charges) == []
    out = tmp_path / "results" / "benchmarks" / "LiH"
    res = run_benchmark("no-bundle-needed.json", ref_dir, charges, out, "LiH", "Li", "H")
    assert res == {"status": "unavailable", "reason": rec["reason"]}
    for name in ("curves.csv", "spectroscopic.csv", "charges.csv", "consistency.csv", "weights.csv", "dipoles.csv"):
        assert len((out / name).read_text().splitlines()) == 1       # header only: no invented numbers
    assert (out / "dissociation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "unavailable.json").read_text())["reason"] == rec["reason"]

    config = {"elements": ["H", "Li"], "molecules": {"names": ["LiH"]}}
    mols, _, configured = load_benchmarks(tmp_path, config)
    assert configured == ["LiH"] and [m.unavailable for m in mols] == [rec["reason"]]
    html = benchmarks_section(mols, None, configured)
    assert "Molecules without a QM reference" in html and "LiH" in html
    rows = [r for r in C.benchmark_checks(mols, configured) if r["item"] == "LiH"]
    assert rows and rows[0]["status"] == "not run" and "no QM reference" in rows[0]["note"]
