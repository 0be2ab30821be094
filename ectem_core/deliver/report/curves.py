"""Diatomic curves of the potential for the report (hartree, bohr, e): CPE scans of every
ECT-EAM variant, plain EAM and QEq; diabatic curves of the vertex configurations (every atom in
one state, weights fixed); the charge-switch distance of each variant against the diabatic
crossing estimate R_c = 1/(IP_A − EA_B); and Re, De, q(Re) from the scanned points."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import InputError


@dataclass(frozen=True)
class ScanGrid:
    """Two linear pieces: dense r_min…r_mid (the well), coarse r_mid…r_max (switch and limit)."""

    r_min: float = 1.5
    r_mid: float = 8.0
    r_max: float = 40.0
    n_inner: int = 27
    n_outer: int = 33

    def __post_init__(self):
        if not (0 < self.r_min < self.r_mid < self.r_max) or self.n_inner < 3 or self.n_outer < 2:
            raise InputError(f"report scan grid needs 0 < r_min < r_mid < r_max, n_inner >= 3, n_outer >= 2 "
                             f"(got {self})")


@dataclass
class PairCurves:
    pair: str
    a: str
    b: str
    models: dict = field(default_factory=dict)       # label -> rows of ectem_core.potential.scan.scan
    diabats: dict = field(default_factory=dict)      # label (e.g. "Li⁺F⁻") -> (r, E)
    ct_label: str = ""                               # the charge-transfer configuration of smaller gap
    ct_states: tuple = ()                            # (state id on A, state id on B) of that configuration
    gap_hartree: float | None = None                 # IP_donor − EA_acceptor of that configuration
    r_c_bohr: float | None = None                    # 1 / gap
    switch_bohr: dict = field(default_factory=dict)  # variant label -> largest R with |q_A| = 1/2 (None: none)
    spectro: dict = field(default_factory=dict)      # label -> {re_bohr, de_hartree, q_A_at_re}
    limit: dict = field(default_factory=dict)        # label -> {r_bohr, q_A, binding_hartree}


SUPERSCRIPT = {1: "⁺", -1: "⁻", 0: "⁰"}


def model_label(model: str, variant: str | None = None) -> str:
    return f"ectem_{variant}" if model == "ectem" else model


def heteronuclear_pairs(bundle: dict) -> list[str]:
    """Every heteronuclear pair of the bundle's elements, the donor first (lower ionization
    energy from the bundle's +1 state ΔE), ordered by donor IP then acceptor EA (larger first):
    Li-F, Li-H, H-F for H/Li/F."""
    ip, ea = {}, {}
    for st in bundle["states"]:
        if st["charge"] == 1 and not st.get("label"):
            ip[st["symbol"]] = st["delta_e_hartree"]
        if st["charge"] == -1 and not st.get("label"):
            ea[st["symbol"]] = -st["delta_e_hartree"]
    syms = list(bundle["elements"])
    order = sorted(syms, key=lambda s: (ip.get(s, np.inf), s))
    pairs = [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]
    pairs.sort(key=lambda p: (ip.get(p[0], np.inf), -ea.get(p[1], -np.inf), p))
    return [f"{a}-{b}" for a, b in pairs]


def grid_points(grid: ScanGrid) -> np.ndarray:
    inner = np.linspace(grid.r_min, grid.r_mid, grid.n_inner)
    outer = np.linspace(grid.r_mid, grid.r_max, grid.n_outer + 1)[1:]
    return np.concatenate([inner, outer])


def scan_rows(model, base, a: str, b: str, rs, model_name: str) -> list[dict]:
    """Rows in the format of ectem_core.potential.scan.scan (same columns, same per-point global CPE) for a
    model that shares the pair tables of `base` (the Potential loaded from the bundle): one table
    build serves every variant."""
    from ...potential.cpe import solve
    from ...potential.scan import qeq_for_bundle, weight_columns

    system = model.system([a, b])
    e_ground = base.ground_energy(a) + base.ground_energy(b)
    cols = weight_columns(model, a, b)
    rows = []
    for r in rs:
        pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, float(r)]])
        if model_name == "qeq":
            q, e = qeq_for_bundle(base, [a, b], pos)
            w, mu = np.full(len(cols), np.nan), (np.nan, np.nan)
        elif model_name == "eam":
            w = model.ground_weights(system)
            ev = model.evaluate(system, pos, w, want_forces=False)
            q, e, mu = ev.charges, ev.energy, (np.nan, np.nan)
        else:
            res = solve(model, system, pos)
            q, e, w, mu = res.evaluation.charges, res.evaluation.energy, res.weights, res.mu
        row = {"r_bohr": float(r), "energy_hartree": float(e_ground + e), "binding_energy_hartree": float(e),
               "q_A": float(q[0]), "q_B": float(q[1]),
               "mu_hartree": float(0.5 * (mu[0] + mu[1])) if np.all(np.isfinite(mu)) else float("nan"),
               "mu_lo_hartree": float(mu[0]), "mu_hi_hartree": float(mu[1])}
        row.update({k: float(v) for k, v in zip(cols, w)})
        rows.append(row)
    return rows


def variant_model(base, variant: str, options: dict):
    """An ECTModel of `variant` on the elements and pair tables of `base`."""
    from ...potential.model import ECTModel, ModelOptions

    return ECTModel(base.elements, base.pairs, ModelOptions(variant=variant, background=options["background"],
                                                            proton=options["proton"],
                                                            eta=options.get("eta", 0.05)))


def spectroscopic(rows: list[dict]) -> dict:
    """Re (bohr) and De (hartree) from a parabola through the lowest scanned point and its two
    neighbours (the grid point itself at an end of the scan); q_A at the lowest point."""
    r = np.array([x["r_bohr"] for x in rows])
    e = np.array([x["binding_energy_hartree"] for x in rows])
    k = int(np.argmin(e))
    re, emin = r[k], e[k]
    if 0 < k < len(r) - 1:
        coef = np.polyfit(r[k - 1:k + 2], e[k - 1:k + 2], 2)
        if coef[0] > 0:
            rv = -coef[1] / (2 * coef[0])
            if r[k - 1] <= rv <= r[k + 1]:
                re, emin = rv, float(np.polyval(coef, rv))
    return {"re_bohr": float(re), "de_hartree": float(-emin), "q_A_at_re": float(rows[k]["q_A"]),
            "at_grid_end": k in (0, len(r) - 1)}


def _vertex(pot, system, sa: int, sb: int) -> np.ndarray:
    c = np.zeros(system.offsets[-1])
    c[system.offsets[0] + sa] = 1.0
    c[system.offsets[1] + sb] = 1.0
    return c


def _q_a(pot, system, r: float) -> float:
    from ...potential.cpe import solve

    res = solve(pot, system, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]]))
    return float(res.evaluation.charges[0])


def switch_distance(pot, system, rows: list[dict], tol: float = 0.02) -> float | None:
    """Largest R at which |q_A| crosses 1/2 (bisection with global CPE solves to `tol` bohr)."""
    r = [x["r_bohr"] for x in rows]
    q = [abs(x["q_A"]) for x in rows]
    for k in range(len(r) - 1, 0, -1):
        if (q[k] - 0.5) * (q[k - 1] - 0.5) <= 0 and q[k] != q[k - 1]:
            lo, hi = r[k - 1], r[k]
            inside = q[k - 1] > 0.5
            while hi - lo > tol:
                mid = 0.5 * (lo + hi)
                if (abs(_q_a(pot, system, mid)) > 0.5) == inside:
                    lo = mid
                else:
                    hi = mid
            return 0.5 * (lo + hi)
    return None


def pair_curves(bundle_path, pair: str, variants, grid: ScanGrid, options: dict) -> PairCurves:
    """Scans, diabats, switch distances and spectroscopic constants of one pair. options:
    background ('overlap'/'point'), proton (bool), eta (hartree, resonance coupling)."""
    from ...potential.loader import load_potential
    from ...potential.scan import parse_pair

    a, b = parse_pair(pair)
    if a == b:
        raise InputError(f"pair {pair}: the report scans heteronuclear pairs only")
    out = PairCurves(pair, a, b)
    base = load_potential(bundle_path, variant="pure", background=options["background"], proton=options["proton"])
    rs = grid_points(grid)
    models = {v: variant_model(base, v, options) for v in variants}
    for v, m in models.items():
        out.models[model_label("ectem", v)] = scan_rows(m, base, a, b, rs, "ectem")
    pure = models.get("pure") or variant_model(base, "pure", options)
    out.models["eam"] = scan_rows(pure, base, a, b, rs, "eam")
    out.models["qeq"] = scan_rows(pure, base, a, b, rs, "qeq")

    system = pure.system([a, b])
    ea, eb = pure.elements[pure.index[a]], pure.elements[pure.index[b]]
    configs = [(ea.ground, eb.ground)]
    gaps = []
    for don, acc, ka in ((ea, eb, "a"), (eb, ea, "b")):
        if don.cation is not None and acc.anion is not None:
            gaps.append((float(don.delta_e[don.cation] + acc.delta_e[acc.anion]), ka, don.cation, acc.anion))
    for _, first, s_don, s_acc in gaps:
        configs.append((s_don, s_acc) if first == "a" else (s_acc, s_don))
    for sa, sb in configs:
        c = _vertex(pure, system, sa, sb)
        label = f"{a}{SUPERSCRIPT[int(ea.charge[sa])]}{b}{SUPERSCRIPT[int(eb.charge[sb])]}"
        es = [pure.evaluate(system, np.array([[0, 0, 0], [0, 0, r]], dtype=float), c, want_forces=False).energy
              for r in rs]
        out.diabats[label] = (rs, np.array(es))
    if gaps:
        gap, first, s_don, s_acc = min(gaps)
        sa, sb = (s_don, s_acc) if first == "a" else (s_acc, s_don)
        out.ct_states = (ea.state_ids[sa], eb.state_ids[sb])
        out.ct_label = f"{a}{SUPERSCRIPT[int(ea.charge[sa])]}{b}{SUPERSCRIPT[int(eb.charge[sb])]}"
        out.gap_hartree = gap
        out.r_c_bohr = 1.0 / gap if gap > 0 else None
    for v, m in models.items():
        label = model_label("ectem", v)
        out.switch_bohr[label] = switch_distance(m, m.system([a, b]), out.models[label])
    for label, rows in out.models.items():
        out.spectro[label] = spectroscopic(rows)
        last = rows[-1]
        out.limit[label] = {"r_bohr": last["r_bohr"], "q_A": last["q_A"], "binding_hartree": last["binding_energy_hartree"]}
    return out


def ct_weight(pc: PairCurves, rows: list[dict]) -> np.ndarray:
    """Weight of the charge-transfer configuration, c_A,s · c_B,t, along a scan (0 if none)."""
    if not pc.ct_states:
        return np.zeros(len(rows))
    sa, sb = pc.ct_states
    return np.array([x.get(f"w_{sa}", 0.0) * x.get(f"w_{sb}", 0.0) for x in rows])
