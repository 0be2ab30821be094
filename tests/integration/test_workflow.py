"""Real Snakemake runs of the pipeline on a tiny config (HF/STO-3G) and config checking."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, snakemake_cmd

from ectem_core.config import load_config
from ectem_core.errors import InputError


def _snakemake(workdir, *args, env=None, timeout=600):
    cmd = snakemake_cmd() + ["-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def _without_chromium(env: dict, bin_dir: Path) -> dict:
    """env as on a machine without Chromium: ECTEM_CHROMIUM unset and a PATH of links to every
    executable of env's PATH but Chromium's names (Snakemake and its SLURM plugin need system tools)."""
    from ectem_core.deliver.report.pdf import CANDIDATES

    bin_dir.mkdir()
    for d in env["PATH"].split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            exe = os.path.join(d, name)
            if (name not in CANDIDATES and not (bin_dir / name).exists() and os.path.isfile(exe)
                    and os.access(exe, os.X_OK)):
                (bin_dir / name).symlink_to(exe)
    out = {k: v for k, v in env.items() if k != "ECTEM_CHROMIUM"}
    out["PATH"] = str(bin_dir)
    assert all(shutil.which(c, path=out["PATH"]) is None for c in CANDIDATES)
    return out


def test_tiny_pipeline_runs_and_second_run_does_nothing(tmp_path, cli_env):
    cfg = REPO / "tests" / "data" / "tiny.yaml"
    # the main job needs no browser: its report's PDF is rendered by the typst wheel
    cli_env = _without_chromium(cli_env, tmp_path / "bin-without-chromium")
    first = _snakemake(tmp_path, "--configfile", str(cfg), env=cli_env)
    assert first.returncode == 0, first.stderr[-3000:]
    for el, ids in {"H": ["H0", "H+1"], "Li": ["Li0", "Li+1", "Li+2"]}.items():
        man = json.loads((tmp_path / "results" / "atoms" / el / "manifest.json").read_text())
        assert {s["state_id"] for s in man["states"]} == set(ids)
        for sid in ids:
            rec = json.loads((tmp_path / "results" / "atoms" / el / f"{sid}.json").read_text())
            assert rec["status"] in ("ok", "exact")
            assert abs(rec["n_integrated"] - rec["n_electrons"]) < 1e-6
            assert (tmp_path / "results" / "atoms" / el / f"{sid}.npz").exists()
    # the whole default target list: stage 5 for H2, the report, and a verified versioned bundle
    for rel in ("results/benchmarks/H2/spectroscopic.csv", "results/report/tiny.html", "results/report/tiny.pdf",
                "results/bundle/tiny-0.1.0.tar.gz"):
        assert (tmp_path / rel).stat().st_size > 0, rel
    assert (tmp_path / "results/report/tiny.pdf").read_bytes()[:5] == b"%PDF-"
    assert "(PDF by typst)" in (tmp_path / "logs" / "report" / "tiny.log").read_text()
    sens = (tmp_path / "results" / "benchmarks" / "sensitivity.csv").read_text()
    for basis in ("sto-3g", "6-31g"):        # the nested run built the 6-31G bundle
        assert f"basis level (atoms),{basis}/pure,H2," in sens
    assert (tmp_path / "results" / "sensitivity" / "6-31g" / "results" / "bundle" / "tiny.json").exists()
    # the tune stage: its held-out clusters (those made of H and Li), the tuned bundle and its archive,
    # while the atoms-only bundle carries no tuning
    for rel in ("results/clusters/H3_linear.json", "results/clusters/Li2H2.json", "results/tune/tiny.json",
                "results/tune/tiny.png", "results/bundle/tiny-tuned-0.1.0.tar.gz"):
        assert (tmp_path / rel).stat().st_size > 0, rel
    tuned = json.loads((tmp_path / "results" / "bundle" / "tiny-tuned.json").read_text())
    atoms_only = json.loads((tmp_path / "results" / "bundle" / "tiny.json").read_text())
    assert "tuning" in tuned and "tuning" not in atoms_only
    assert tuned["parameters_sha256"] != atoms_only["parameters_sha256"]
    tune = json.loads((tmp_path / "results" / "tune" / "tiny.json").read_text())
    assert {c["name"] for c in tune["clusters"]} == {"H3_linear", "Li2H2"}
    assert [t["mol"] for t in tune["training"]] == ["H2"]
    assert "9. Tuned potential" in (tmp_path / "results" / "report" / "tiny.html").read_text()
    second = _snakemake(tmp_path, "--configfile", str(cfg), env=cli_env)
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr


@pytest.mark.parametrize("mutate, words", [
    (lambda c: c.update(elements=["H", "Xx"]), "'Xx'"),
    (lambda c: c.update(colour="blue"), "unknown key 'colour'"),
    (lambda c: c["levels"]["energy"].update(method="mp7"), "levels.energy.method = 'mp7'"),
    (lambda c: c["levels"]["energy"].update(basis="cc-pvxz"), "levels.energy.basis = 'cc-pvxz'"),
    (lambda c: c.update(tune={"paramters": ["K"]}), "unknown key 'tune.paramters'"),
    (lambda c: c.update(tune={"clusters": ["Li4F4"]}), "tune.clusters.0 = 'Li4F4'"),
    # a copied config whose elements changed but whose name still spells the old set
    (lambda c: c.update(name="H-Li", elements=["Na", "Cl"]), "name 'H-Li' names the element set H, Li"),
])
def test_bad_config_fails_at_start_naming_key_and_value(tmp_path, cli_env, mutate, words):
    cfg = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    mutate(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)
    run = _snakemake(tmp_path, "--configfile", str(path), "-n", env=cli_env, timeout=120)
    assert run.returncode != 0
    assert words.split("'")[1] in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_shipped_configs_are_valid():
    for name in ("config.yaml", "production.yaml"):
        load_config(REPO / "config" / name)
    load_config(REPO / "tests" / "data" / "tiny.yaml")


def test_the_config_schema_exists_once_and_the_workflow_validates_against_it():
    from ectem_core.config import schema_path

    copies = [p for p in REPO.rglob("*schema*.yaml") if ".venv" not in p.parts and "results" not in p.parts]
    assert copies == [Path(schema_path())], copies
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert "validate(config, schema_path())" in common


def _dry_jobs(workdir, cfg: dict, env) -> dict:
    path = workdir / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = _snakemake(workdir, "--configfile", str(path), "-n", env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    text = run.stdout + run.stderr
    stats = text.split("Job stats:")[1].split("\n\n")[0]
    return {ln.split()[0]: int(ln.split()[1]) for ln in stats.splitlines()[3:] if len(ln.split()) == 2}


def test_the_tune_stage_is_on_by_default_and_off_on_request(tmp_path, cli_env):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    jobs = _dry_jobs(tmp_path, cfg, cli_env)
    # H/Li/F: linear H3, (HF)2, Li2F2 and Li2H2 held out; one fit; the tuned archive next to the atoms-only one
    assert jobs["cluster_reference"] == 4 and jobs["tune"] == 1 and jobs["tuned_package"] == 1
    assert jobs["bundle_package"] == 1
    cfg["tune"] = {"enabled": False}
    jobs = _dry_jobs(tmp_path, cfg, cli_env)
    assert "tune" not in jobs and "cluster_reference" not in jobs and "tuned_package" not in jobs
    cfg["tune"] = {"clusters": ["Na2Cl2"]}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = _snakemake(tmp_path, "--configfile", str(path), "-n", env=cli_env, timeout=120)
    assert run.returncode != 0 and "Na2Cl2 needs Cl, Na" in run.stdout + run.stderr
