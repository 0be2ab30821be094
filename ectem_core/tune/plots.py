"""Figure of the tune stage: each training molecule's QM points, atoms-only and tuned curves,
and the curve predicted with that molecule left out of the fit (eV against bohr)."""
from __future__ import annotations

import math


def plot_tune(result: dict, path) -> None:
    from ..plotting import pyplot, save_png

    plt = pyplot()
    rows = result["training"]
    loo = {x["left_out"]: x for x in result.get("leave_one_out", [])}
    n = len(rows)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        ref = row["reference"]
        ax.plot(ref["points"]["r_bohr"], ref["points"]["binding_eV"], "ko", ms=4, label="QM reference")
        for key, style, label in (("atoms_only", "C0--", "atoms only"), ("tuned", "C3-", "tuned")):
            f = row[key]["fine"]
            ax.plot(f["r_bohr"], f["binding_eV"], style, lw=1.5, label=label)
        if row["mol"] in loo:
            f = loo[row["mol"]]["fine"]
            ax.plot(f["r_bohr"], f["binding_eV"], "C2:", lw=1.5, label="tuned without it")
        lo = min(min(ref["points"]["binding_eV"]), min(row["tuned"]["fine"]["binding_eV"]))
        ax.set_ylim(1.25 * lo - 0.3, max(1.5, 0.5 * abs(lo)))
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_title(row["mol"])
        ax.set_xlabel("R (bohr)")
        ax.set_ylabel("E − E(atoms) (eV)")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path)
