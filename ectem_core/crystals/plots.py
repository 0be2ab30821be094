"""Figures of the crystal stage: equations of state (eos.png) and MD energies and charges (md.png)."""
from __future__ import annotations

import numpy as np

from ..plotting import pyplot, save_png

_STYLE = {"ectem": "-", "eam": "--", "qeq": ":"}


def plot_eos(result, path) -> None:
    """One panel per formula: E(V) per formula unit (eV) of every structure and model, points and
    their Birch–Murnaghan fit; the experimental volume as a vertical line where tabulated."""
    from .eos import fit_birch_murnaghan
    from .structures import volume_per_unit

    plt = pyplot()
    formulas = list(dict.fromkeys(r["formula"] for r in result["rows"]))
    n = max(1, len(formulas))
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.0), squeeze=False)
    for ax, f in zip(axes[0], formulas):
        for r in (x for x in result["rows"] if x["formula"] == f and x["status"] == "ok"):
            v, e = np.array(r["eos"]["volume_A3"]), np.array(r["eos"]["energy_eV"])
            bm = fit_birch_murnaghan(v, e)
            vv = np.linspace(v.min(), v.max(), 100)
            line, = ax.plot(vv, bm.energy(vv), _STYLE.get(r["model"], "-"), label=f"{r['structure']} {r['model']}")
            ax.plot(v, e, "o", ms=3, color=line.get_color())
        exp = result.get("experiment", {}).get(f)
        if exp and exp.get("a0_angstrom"):
            ax.axvline(volume_per_unit(exp["structure"], exp["a0_angstrom"]), color="0.5", lw=0.8,
                       label=f"experiment ({exp['structure']})")
        ax.set_xlabel("volume per formula unit (Å³)")
        ax.set_ylabel("E − E(neutral atoms) per formula unit (eV)")
        ax.set_title(f"{f}: equations of state")
        ax.legend(fontsize=7)
    if not formulas:
        axes[0][0].text(0.5, 0.5, "no crystal of this element set", ha="center", va="center")
        axes[0][0].set_axis_off()
    fig.tight_layout()
    save_png(fig, path)


def plot_md(result, path) -> None:
    """Left: total and potential energy per atom of each crystal NVE run (shifted to start at 0);
    middle and right: the dissociating molecules' charge and total energy against the bond length."""
    plt = pyplot()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.0))
    for run in result["md"]["crystal"]:
        s = run["series"]
        t = np.array(s["time_fs"])
        et = (np.array(s["e_tot_eV"]) - s["e_tot_eV"][0]) / run["atoms"]
        ep = (np.array(s["e_pot_eV"]) - s["e_pot_eV"][0]) / run["atoms"]
        line, = ax1.plot(t, et, label=f"{run['formula']} {run['temperature_target_K']:.0f} K: E_tot")
        ax1.plot(t, ep, ":", color=line.get_color(), label=f"{run['formula']} {run['temperature_target_K']:.0f} K: E_pot")
    ax1.set_xlabel("t (fs)")
    ax1.set_ylabel("E − E(0) per atom (eV)")
    ax1.set_title("NVE, 64-atom rock-salt cell")
    for run in result["md"]["dissociation"]:
        s = run["series"]
        R = np.array(s["R_angstrom"])
        ax2.plot(R, s["q_A"], label=f"{run['molecule']} ({run['variant']})")
        ax3.plot(R, (np.array(s["e_tot_eV"]) - s["e_tot_eV"][0]) * 1000.0, label=f"{run['molecule']} ({run['variant']})")
    if not result["md"]["crystal"] and not result["md"]["dissociation"]:
        for ax in (ax1, ax2, ax3):
            ax.text(0.5, 0.5, "no MD run (crystals.md off, or no rock-salt compound bound)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
    ax2.set_xlabel("R (Å)")
    ax2.set_ylabel("charge of the first atom (e)")
    ax2.set_title("dissociation trajectory: charge")
    ax3.set_xlabel("R (Å)")
    ax3.set_ylabel("E_tot − E_tot(0) (meV)")
    ax3.set_title("dissociation trajectory: total energy")
    for ax in (ax1, ax2, ax3):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path)
