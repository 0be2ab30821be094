"""Figures for the report (matplotlib, Agg backend, PNG)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import pyplot, save_png


def plot_element_fits(symbol: str, items: list[tuple[dict, dict]], out_png) -> None:
    """One figure per element: RDF 4πr²ρ̄ (QM vs fit) and log10 ρ̄ out to 30 bohr with the
    imposed asymptote r^{2β}e^{−2κr}. items: (fit record, density arrays) per state."""
    from .fit import evaluate

    plt = pyplot()
    items = [(f, d) for f, d in items if f["status"] in ("ok", "exact") and f["n_electrons"] > 0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    if not items:
        for ax in axes:
            ax.text(0.5, 0.5, f"{symbol}: no fitted states", ha="center", va="center")
    for k, (fit, dens) in enumerate(items):
        color = f"C{k % 10}"
        r, rho = dens["r_bohr"], dens["rho"]
        fitted = evaluate(fit["shells"], fit["tail"], r)
        m = fit["metrics"]
        label = f"{fit['state_id']} (res {m['rdf_residual']:.1e})"
        axes[0].plot(r, 4 * np.pi * r**2 * rho, color=color, lw=2.2, alpha=0.45)
        axes[0].plot(r, 4 * np.pi * r**2 * fitted, color=color, lw=1.0, ls="--", label=label)
        far = r <= 30
        axes[1].semilogy(r[far], np.maximum(rho[far], 1e-30), color=color, lw=2.2, alpha=0.45)
        axes[1].semilogy(r[far], fitted[far], color=color, lw=1.0, ls="--")
        if fit.get("kappa"):
            rr = np.linspace(10, 30, 50)
            asym = rr ** (2 * fit["beta"]) * np.exp(-2 * fit["kappa"] * rr)
            at_20 = evaluate(fit["shells"], fit["tail"], np.array([20.0]))[0]
            scale = at_20 / (20.0 ** (2 * fit["beta"]) * np.exp(-40 * fit["kappa"]))
            axes[1].semilogy(rr, scale * asym, color=color, lw=0.8, ls=":")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("r (bohr)")
    axes[0].set_ylabel("4πr²ρ̄ (e/bohr)")
    axes[0].set_title(f"{symbol}: radial distribution, QM (thick) vs fit (dashed)")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("r (bohr)")
    axes[1].set_ylabel("ρ̄ (e/bohr³)")
    axes[1].set_ylim(1e-16, None)
    axes[1].set_title(r"density tail; dotted: imposed $r^{2\beta}e^{-2\kappa r}$")
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, out_png)


def plot_fits_from_files(symbol: str, fit_paths, npz_paths, out_png) -> None:
    """plot_element_fits from stage-2 JSON files and stage-1 density files."""
    from ..atoms.compute import load_density
    from ..io import read_json

    items = [(read_json(f), load_density(n)) for f, n in zip(fit_paths, npz_paths)]
    plot_element_fits(symbol, items, out_png)
