"""Stage-1 timing per state, and the pipeline's: wall time per state at the default and production levels
on this machine, and the share of a real pipeline run spent outside the QM/fit work.

Usage: .venv/bin/python benchmarks/bench_atoms.py [--production] [--json FILE]
Runs `snakemake --cores 1` on the default config in a scratch directory (serial, so the
elapsed time is the sum of job times + overhead), then sums the wall_s of every record.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def per_state(config: str) -> dict:
    from ectem_core.atoms import settings_from_config
    from ectem_core.config import load_config
    from ectem_core.qm.pyscf_backend import compute_state

    settings = settings_from_config(load_config(REPO / "config" / config))
    out = {}
    for el in load_config(REPO / "config" / config)["elements"]:
        for st in settings.states(el):
            t = time.perf_counter()
            compute_state(st, settings.energy_level, settings.density_level, settings.grid, settings.n_angular,
                          threads=2)
            out[st.state_id] = time.perf_counter() - t
    return out


def pipeline_share() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        snake = Path(sys.executable).parent / "snakemake"
        t = time.perf_counter()
        subprocess.run([str(snake), "-s", str(REPO / "Snakefile"), "--directory", tmp, "--cores", "1", "-q",
                        "--configfile", str(REPO / "config" / "config.yaml")], check=True, capture_output=True)
        elapsed = time.perf_counter() - t
        qm = sum(json.loads(p.read_text())["wall_s"] for p in Path(tmp, "results", "atoms").glob("*/raw/*.json"))
        fits = sum(json.loads(p.read_text())["wall_s"] for p in Path(tmp, "results", "fits").glob("*/*.json"))
        emb = sum(json.loads(p.read_text()).get("wall_s", 0.0)
                  for p in Path(tmp, "results", "embedding").glob("*/*.json"))
    work = qm + fits + emb
    return {"elapsed_s": elapsed, "qm_s": qm, "fit_s": fits, "embedding_s": emb, "outside_s": elapsed - work,
            "outside_share": (elapsed - work) / elapsed}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--production", action="store_true", help="also time config/production.yaml states")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    res = {"default": per_state("config.yaml")}
    if args.production:
        res["production"] = per_state("production.yaml")
    res["pipeline"] = pipeline_share()
    for level, times in res.items():
        if level == "pipeline":
            continue
        print(f"{level}: " + ", ".join(f"{k} {v:.1f}s" for k, v in times.items()) + f"; total {sum(times.values()):.1f}s")
    p = res["pipeline"]
    print(f"pipeline (--cores 1): {p['elapsed_s']:.1f}s elapsed, QM {p['qm_s']:.1f}s, fits {p['fit_s']:.1f}s, "
          f"embedding {p['embedding_s']:.1f}s, "
          f"outside {p['outside_s']:.1f}s ({100 * p['outside_share']:.0f}%)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
