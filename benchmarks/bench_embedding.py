"""Benchmark: stage-3 cost per state (Daw curves, window, concordance fit, whole record).

For every fitted state in a results/fits directory (default: results/fits of this repo),
times, on one core after warm-up,
  daw    - the Daw integrals L, W and two derivatives at the 241 table densities,
  window - the overlap averages with the element set's neutral ground states,
  record - the complete stage-3 record (embedding_records.embedding_record),
and prints one line per state plus the total.

    .venv/bin/python benchmarks/bench_embedding.py [--fits results/fits] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ectem_core import embedding as E  # noqa: E402
from ectem_core.density.slater import RadialDensity  # noqa: E402
from ectem_core.embedding.records import embedding_record, partner_densities  # noqa: E402
from ectem_core.io import read_json  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fits", default=str(Path(__file__).resolve().parents[1] / "results" / "fits"))
    ap.add_argument("--json", default=None, help="also write the timings as JSON")
    args = ap.parse_args(argv)
    root = Path(args.fits)
    files = sorted(root.glob("*/*.json"))
    if not files:
        print(f"no fit records under {root}", file=sys.stderr)
        return 2
    recs = [read_json(f) for f in files]
    partners = [r for r in recs if r.get("charge") == 0 and r["state_id"] == f"{r.get('symbol')}0"]
    pd = partner_densities(partners)
    st = E.EmbeddingSettings()
    knots = np.exp(np.linspace(math.log(st.rho_table_min), math.log(st.rho_table_max), st.n_table))
    # warm-up (numba compilation, libxc load)
    warm = next(r for r in recs if r["n_electrons"] > 0 and r["status"] != "excluded")
    E.daw_curves(RadialDensity.from_dict(warm), knots[:4])
    rows = []
    for r in recs:
        if r["status"] == "excluded" or r["n_electrons"] == 0:
            continue
        rd = RadialDensity.from_dict(r)
        t0 = time.perf_counter()
        E.daw_curves(rd, knots)
        t1 = time.perf_counter()
        E.background_window(rd, r["n_electrons"], r["symbol"], pd, st)
        t2 = time.perf_counter()
        embedding_record(r, partners, st)
        t3 = time.perf_counter()
        rows.append({"state_id": r["state_id"], "daw_s": t1 - t0, "window_s": t2 - t1, "record_s": t3 - t2})
        print(f"{r['state_id']:8s} daw {t1 - t0:6.2f} s   window {t2 - t1:6.3f} s   record {t3 - t2:6.2f} s")
    total = sum(x["record_s"] for x in rows)
    print(f"total (records): {total:.2f} s for {len(rows)} states, {total / len(rows):.2f} s per state")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "total_s": total, "machine": platform.platform(),
                                               "cpus": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
