"""Stage-3 figure per element: embedding-curve overlay and Daw–Baskes parity plot."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import pyplot, save_png


def _thin_symlog_ticks(axis, lin: float) -> None:
    """Drop the ±linthresh tick labels of a symlog axis (they crowd the 0 label)."""
    ticks = [v for v in axis.get_majorticklocs() if v == 0 or abs(v) > 1.5 * lin]
    axis.set_ticks(ticks)


def plot_element_embedding(symbol: str, records: list[dict], out_png) -> None:
    """Left: every state's embedding function F_s(ρ̄) (solid), its nominal Daw curve
    (a = 1, λ = λ₀; dotted) and the fitted Baskes curve (dashed), with the state's
    background-density window as a bar; symlog energy axis. Right: parity of F_B against
    F_D(a, λ) at the window points of every fitted state (filled: form 'concordance',
    hollow: rejected fit, the state uses the Daw spline)."""
    plt = pyplot()
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(12, 4.8))
    live = [r for r in records if r.get("status") == "ok"]
    others = [r for r in records if r.get("status") != "ok"]
    fmins = [abs(r["F_min_hartree"]) for r in live if r.get("F_min_hartree")]
    lin = max(min(fmins) if fmins else 1e-3, 1e-5)
    lo_all, hi_all = [], []
    for k, rec in enumerate(live):
        color = f"C{k % 10}"
        c = rec["curve"]
        x = np.asarray(c["rho_bar"])
        label = f"{rec['state_id']} [{rec['form']}]"
        ax.plot(x, c["F"], color=color, lw=1.8, label=label)
        ax.plot(x, c["F_daw_nominal"], color=color, lw=1.0, ls=":")
        if c.get("F_baskes_fit") is not None:
            ax.plot(x, c["F_baskes_fit"], color=color, lw=1.0, ls="--")
        w = rec["window"]
        ax.plot([w["rho_lo"], w["rho_hi"]], [-(1.5 + 0.6 * k) * max(fmins)] * 2, color=color, lw=3, alpha=0.6,
                solid_capstyle="butt")
        fit = rec.get("concordance_fit")
        if fit:
            FD, FB = np.asarray(w["F_daw_fit"]), np.asarray(w["F_baskes_fit"])
            filled = rec["form"] == "concordance"
            axp.plot(FD, FB, "o", ms=3.5, color=color, mfc=color if filled else "none",
                     label=f"{rec['state_id']}: rel rms {rec['parity_rel_rms']:.2f}")
            lo_all.append(min(FD.min(), FB.min()))
            hi_all.append(max(FD.max(), FB.max()))
    ax.set_xscale("log")
    ax.set_xlim(1e-7, 10)
    ax.set_yscale("symlog", linthresh=lin, linscale=1.5)
    ylim = ax.get_ylim()
    _thin_symlog_ticks(ax.yaxis, lin)
    ax.set_ylim(*ylim)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel("background density ρ̄ (bohr⁻³)")
    ax.set_ylabel("F (hartree, symlog)")
    title = f"{symbol}: embedding functions (solid), Daw a=1 λ=λ₀ (dotted), Baskes fit (dashed)"
    if others:
        title += "\n" + "; ".join(f"{r['state_id']}: {r.get('form') or r.get('status')}" for r in others)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    if lo_all:
        lo, hi = min(lo_all), max(hi_all)
        axp.plot([lo, hi], [lo, hi], color="0.4", lw=0.8)
        axp.set_xscale("symlog", linthresh=lin, linscale=1.5)
        axp.set_yscale("symlog", linthresh=lin, linscale=1.5)
        _thin_symlog_ticks(axp.xaxis, lin)
        _thin_symlog_ticks(axp.yaxis, lin)
        span = (lo * 1.5 if lo < 0 else lo / 1.5, hi * 1.5 if hi > 0 else hi / 1.5)
        axp.set_xlim(*span)
        axp.set_ylim(*span)
        axp.legend(fontsize=7, loc="upper left")
    else:
        axp.text(0.5, 0.5, f"{symbol}: no fitted states", ha="center", va="center", transform=axp.transAxes)
    axp.set_xlabel("F_D(ρ̄; a, λ) (hartree)")
    axp.set_ylabel("F_B(ρ̄; A·E_c, ρ̄₀) (hartree)")
    axp.set_title("parity over the window (filled: concordance, hollow: fell back to Daw spline)", fontsize=9)
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, out_png)


def plot_embedding_from_files(symbol: str, paths, out_png) -> None:
    from ..io import read_json

    plot_element_embedding(symbol, [read_json(p, "embedding result") for p in paths], out_png)
