"""Report figures (matplotlib, Agg) returned as PNG bytes: per-pair potential curves
(binding energy, charge, diabatic/adiabatic 'surface hopping without hops', weights vs R),
benchmark curves and the density-vs-energy weight consistency. Energies in eV on the plots
(hartree in every table), distances in bohr."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ...elements import HARTREE_EV
from ...plotting import png_bytes, pyplot

COLORS = {"reference": "k", "ectem_pure": "C0", "ectem_resonance": "C1", "ectem_thermal": "C2",
          "eam": "0.45", "qeq": "C3"}
STYLES = {"ectem_pure": "-", "ectem_resonance": "--", "ectem_thermal": "-.", "eam": ":", "qeq": (0, (5, 2, 1, 2))}


def log_r_axis(ax, r_min: float, r_max: float) -> None:
    """Log R axis with plain-number ticks (2, 3, 5, 8, 12, 20, 40 bohr …) and no minor labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_xlim(r_min, r_max)
    ticks = [t for t in (0.5, 1, 2, 3, 5, 8, 12, 20, 40, 80) if r_min <= t <= r_max]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _energy_limits(curves: list[np.ndarray]) -> tuple[float, float]:
    lo = min(float(np.nanmin(c)) for c in curves)
    lo = min(lo, -0.2)
    return 1.25 * lo, max(0.35 * abs(lo), 0.5)


def pair_figure(pc) -> bytes:
    """Top: binding energy, q_A and diabats + CPE adiabats (colour = CT weight) vs R.
    Bottom: ensemble weights vs R of each ECT-EAM variant."""
    from matplotlib.collections import LineCollection

    from .curves import ct_weight

    plt = pyplot()
    variants = [m for m in pc.models if m.startswith("ectem_")]
    ncol = max(3, len(variants))
    fig, axes = plt.subplots(2, ncol, figsize=(4.3 * ncol, 7.6))
    ax_e, ax_q, ax_h = axes[0, 0], axes[0, 1], axes[0, 2]
    all_e = []
    for label, rows in pc.models.items():
        r = np.array([x["r_bohr"] for x in rows])
        e = np.array([x["binding_energy_hartree"] for x in rows]) * HARTREE_EV
        q = np.array([x["q_A"] for x in rows])
        all_e.append(e)
        kw = dict(color=COLORS.get(label, None), ls=STYLES.get(label, "-"), lw=1.6, label=label)
        ax_e.plot(r, e, **kw)
        ax_q.plot(r, q, **kw)
    lo, hi = _energy_limits(all_e)
    r_all = np.array([x["r_bohr"] for x in next(iter(pc.models.values()))])
    for ax in (ax_e, ax_q, ax_h):
        log_r_axis(ax, float(r_all.min()), float(r_all.max()))
        ax.set_xlabel("R (bohr)")
        ax.axhline(0, color="0.75", lw=0.6)
        if pc.r_c_bohr:
            ax.axvline(pc.r_c_bohr, color="0.5", lw=0.8, ls=":")
    ax_e.set_ylim(lo, hi)
    ax_e.set_ylabel("binding energy (eV)")
    ax_e.set_title(f"{pc.pair}: E − E(neutral atoms)", fontsize=10)
    ax_e.legend(fontsize=7.5, loc="lower right")
    ax_q.set_ylabel(f"q_{pc.a} (e)")
    ax_q.set_title(f"{pc.pair}: charge on {pc.a}" + (f"; dotted: R_c = {pc.r_c_bohr:.2f} bohr" if pc.r_c_bohr else ""),
                   fontsize=10)
    # surface hopping without hops: diabats at fixed vertex weights, CPE adiabats coloured by CT weight
    dia_e = []
    for k, (label, (r, e)) in enumerate(pc.diabats.items()):
        ev = np.asarray(e) * HARTREE_EV
        dia_e.append(ev)
        ax_h.plot(r, ev, color=["0.35", "C4", "C5", "C6"][k % 4], lw=1.0, ls="--", label=f"diabat {label}")
    norm = plt.Normalize(0.0, 1.0)
    cmap = plt.get_cmap("viridis")
    lstyles = ["solid", "dashed", "dashdot", "dotted"]
    for k, label in enumerate(variants):
        rows = pc.models[label]
        r = np.array([x["r_bohr"] for x in rows])
        e = np.array([x["binding_energy_hartree"] for x in rows]) * HARTREE_EV
        w = ct_weight(pc, rows)
        pts = np.column_stack([r, e]).reshape(-1, 1, 2)
        seg = np.concatenate([pts[:-1], pts[1:]], axis=1)
        lc = LineCollection(seg, cmap=cmap, norm=norm, linewidths=3.2 - 0.7 * k, linestyles=lstyles[k % 4])
        lc.set_array(0.5 * (w[:-1] + w[1:]))
        ax_h.add_collection(lc)
        ax_h.plot([], [], color="k", lw=3.2 - 0.7 * k, ls=lstyles[k % 4], label=f"CPE {label}")
    ax_h.set_ylim(lo, hi)
    ax_h.set_ylabel("energy (eV)")
    ax_h.set_title("diabats (fixed vertex weights) and CPE adiabats", fontsize=10)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax_h, pad=0.01)
    cb.set_label(f"weight of {pc.ct_label or 'CT'}", fontsize=8)
    ax_h.legend(fontsize=7, loc="lower right")
    for j in range(3, ncol):
        axes[0, j].axis("off")
    for j in range(ncol):
        ax = axes[1, j]
        if j >= len(variants):
            ax.axis("off")
            continue
        label = variants[j]
        rows = pc.models[label]
        r = np.array([x["r_bohr"] for x in rows])
        wcols = [c for c in rows[0] if c.startswith("w_")]
        for k, c in enumerate(wcols):
            w = np.array([x[c] for x in rows])
            if np.nanmax(np.abs(w)) < 1e-6:
                continue
            ax.plot(r, w, lw=1.5, color=f"C{k % 10}", label=c[2:])
        log_r_axis(ax, float(r.min()), float(r.max()))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("R (bohr)")
        ax.set_ylabel("ensemble weight")
        sw = pc.switch_bohr.get(label)
        ax.set_title(f"{label}: weights" + (f" (switch {sw:.2f} bohr)" if sw else ""), fontsize=10)
        if sw:
            ax.axvline(sw, color="0.3", lw=0.8, ls="--")
        ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    return png_bytes(fig)


def benchmark_curves_figure(mol: str, rows: list[dict], models: list[str]) -> bytes:
    """Binding energy (eV) and q_A of every model against the reference curve."""
    plt = pyplot()
    fig, (ax_e, ax_q) = plt.subplots(1, 2, figsize=(11, 3.9))
    r = np.array([x["r_bohr"] for x in rows], dtype=float)
    ref = np.array([x["binding_ref_hartree"] if x["binding_ref_hartree"] is not None else np.nan for x in rows],
                   dtype=float) * HARTREE_EV
    ax_e.plot(r, ref, "o-", color="k", ms=3.5, lw=1.8, label="reference")
    curves = [ref]
    for m in models:
        e = np.array([x.get(f"binding_{m}_hartree") if x.get(f"binding_{m}_hartree") is not None else np.nan
                      for x in rows], dtype=float) * HARTREE_EV
        curves.append(e)
        ax_e.plot(r, e, color=COLORS.get(m), ls=STYLES.get(m, "-"), lw=1.5, label=m)
        if f"q_A_{m}" in rows[0]:
            q = np.array([x[f"q_A_{m}"] if x[f"q_A_{m}"] is not None else np.nan for x in rows], dtype=float)
            ax_q.plot(r, q, color=COLORS.get(m), ls=STYLES.get(m, "-"), lw=1.5, label=m)
    finite = [c[np.isfinite(c)] for c in curves if np.isfinite(c).any()]
    if finite:
        lo = min(float(c.min()) for c in finite)
        ax_e.set_ylim(1.25 * min(lo, -0.2), max(0.35 * abs(lo), 0.5))
    for ax in (ax_e, ax_q):
        ax.set_xlabel("R (bohr)")
        ax.axhline(0, color="0.75", lw=0.6)
        ax.legend(fontsize=7.5)
    ax_e.set_ylabel("binding energy (eV)")
    ax_e.set_title(f"{mol}: dissociation curves", fontsize=10)
    ax_q.set_ylabel("q_A (e)")
    ax_q.set_title(f"{mol}: charge on the first atom", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def consistency_figure(mol: str, rows: list[dict]) -> bytes:
    """Charges from density weights, CPE and energy-fitted weights vs R, and their disagreement."""
    plt = pyplot()
    fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(11, 3.6))
    r = np.array([x["r_bohr"] for x in rows], dtype=float)

    def col(c):
        return np.array([x[c] if x[c] is not None else np.nan for x in rows], dtype=float)

    for c, style in (("q_A_density", "o-"), ("q_A_cpe", "s--"), ("q_A_energy_fit", "^:")):
        ax.plot(r, col(c), style, ms=4, lw=1.4, label=c)
    ax.set_xlabel("R (bohr)")
    ax.set_ylabel("q_A (e)")
    ax.set_title(f"{mol}: charges from density vs energy weights", fontsize=10)
    ax.legend(fontsize=7.5)
    ax_d.plot(r, np.abs(col("disagreement")), "o-", color="C3", ms=4, label="|disagreement|")
    ax_d.set_xlabel("R (bohr)")
    ax_d.set_ylabel("|disagreement| (e)")
    ax_d.set_title(f"{mol}: disagreement per geometry", fontsize=10)
    ax_d.legend(fontsize=7.5)
    fig.tight_layout()
    return png_bytes(fig)


def stage_figure(kind: str, symbol: str, res) -> bytes:
    """The fit ('fits') or embedding ('embedding') figure of an element: the PNG the stage wrote,
    or the same figure drawn now from the records when the stage figure was not requested."""
    existing = (res.fit_png if kind == "fits" else res.embedding_png).get(symbol)
    if existing is not None:
        return Path(existing).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{kind}.png"
        if kind == "fits":
            from ...atoms.compute import load_density
            from ...density.plots import plot_element_fits

            items = [(rec, load_density(res.workdir / "results" / "atoms" / symbol / f"{sid}.npz"))
                     for sid, rec in res.fits[symbol].items()]
            plot_element_fits(symbol, items, out)
        else:
            from ...embedding.plots import plot_element_embedding

            plot_element_embedding(symbol, list(res.embedding[symbol].values()), out)
        return out.read_bytes()
