"""Figures of one molecule's benchmark tables (results/benchmarks/{mol}/*.png): binding
energy and charge of every model against the QM reference, and the ECT-EAM weights vs R."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..elements import HARTREE_EV
from ..plotting import pyplot, save_png


def _table(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) if r[k] not in ("", None) else np.nan for r in rows]) if k != "model"
            else [r[k] for r in rows] for k in rows[0]} if rows else {}


def plot_molecule(mol: str, out_dir) -> list[Path]:
    """dissociation.png (binding energies, eV) and weights.png; returns the paths."""
    plt = pyplot()
    out_dir = Path(out_dir)
    ref = _table(out_dir / "curves.csv")
    fine = _table(out_dir / "curves_fine.csv")
    models = [k[len("binding_"):-len("_hartree")] for k in fine if k.startswith("binding_")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(ref["r_bohr"], ref["binding_ref_hartree"] * HARTREE_EV, "ko", label="QM reference")
    for m in models:
        ax1.plot(fine["r_bohr"], fine[f"binding_{m}_hartree"] * HARTREE_EV, label=m)
        if f"q_A_{m}" in fine:
            ax2.plot(fine["r_bohr"], fine[f"q_A_{m}"], label=m)
    lo = np.nanmin(ref["binding_ref_hartree"]) * HARTREE_EV
    ax1.set_ylim(min(lo * 1.4, -0.5), max(2.0, -0.3 * lo))
    ax1.axhline(0, color="0.6", lw=0.8)
    ax1.set_xlabel("R (bohr)")
    ax1.set_ylabel("E − E(atoms) (eV)")
    ax1.set_title(f"{mol}: dissociation")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("R (bohr)")
    ax2.set_ylabel("q_A (e)")
    ax2.set_title(f"{mol}: charge of the first atom")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    paths = [out_dir / "dissociation.png"]
    save_png(fig, paths[0])

    with open(out_dir / "weights.csv") as fh:
        rows = list(csv.DictReader(fh))
    variants = sorted({r["model"] for r in rows})
    cols = [k for k in rows[0] if k.startswith("w_")]
    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 3.8), squeeze=False)
    for ax, v in zip(axes[0], variants):
        sub = [r for r in rows if r["model"] == v]
        r = np.array([float(x["r_bohr"]) for x in sub])
        for c in cols:
            w = np.array([float(x[c]) for x in sub])
            if w.max() > 1e-3:
                ax.plot(r, w, label=c[2:])
        ax.set_title(f"{mol}: weights, {v}")
        ax.set_xlabel("R (bohr)")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out_dir / "weights.png")
    save_png(fig, paths[1])
    return paths
