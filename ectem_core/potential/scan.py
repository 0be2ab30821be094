"""Diatomic scans: energy, charges, chemical potential and ensemble weights along R for the
ECT-EAM potential (pure or coupled variant), plain EAM (neutral ground states only) and QEq.

Energies in the table are totals: Σ E_ground(atoms) + the model's energy relative to the
separated neutral ground-state atoms (column binding_energy_hartree).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

MODELS = ("ectem", "qeq", "eam")


def parse_pair(pair: str) -> tuple[str, str]:
    parts = pair.split("-")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"pair {pair!r}: write two element symbols joined by '-', e.g. Li-F")
    return parts[0], parts[1]


def weight_columns(model, a: str, b: str) -> list[str]:
    """Column names w_<state_id>; for a homonuclear pair w_A:<id> and w_B:<id>."""
    ea, eb = model.elements[model.index[a]], model.elements[model.index[b]]
    if a == b:
        return [f"w_A:{s}" for s in ea.state_ids] + [f"w_B:{s}" for s in eb.state_ids]
    return [f"w_{s}" for s in ea.state_ids] + [f"w_{s}" for s in eb.state_ids]


def scan(bundle, pair: str, r_min: float, r_max: float, n: int, model_name: str = "ectem",
         variant: str = "pure", direction: str = "in", qeq_params: str = "published",
         background: str = "overlap", proton: bool = False, cpe_method: str = "auto") -> list[dict]:
    """Rows of a scan from r_max down to r_min ('in') or up ('out'); the CPE at every point is
    a global solve (no warm start is trusted for a dimer). cpe_method: see `cpe.solve`
    ('auto': numba solver and evaluator where supported; 'slsqp': the reference path)."""
    from .cpe import solve
    from .fastmodel import evaluate
    from .loader import load_potential

    a, b = parse_pair(pair)
    if not (0 < r_min < r_max) or n < 2:
        raise InputError(f"scan needs 0 < r_min < r_max and n >= 2 (got {r_min}, {r_max}, {n})")
    if model_name not in MODELS:
        raise InputError(f"unknown model {model_name!r}: use one of {', '.join(MODELS)}")
    from .cpe import METHODS

    if cpe_method not in METHODS:
        raise InputError(f"unknown CPE method {cpe_method!r}: use one of {', '.join(METHODS)}")
    pot = load_potential(bundle, variant=variant, background=background, proton=proton)
    system = pot.system([a, b])
    e_ground = pot.ground_energy(a) + pot.ground_energy(b)
    rs = np.linspace(r_min, r_max, n)
    if direction == "in":
        rs = rs[::-1]
    cols = weight_columns(pot, a, b)
    rows = []
    for r in rs:
        pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]])
        if model_name == "qeq":
            q, e = qeq_for_bundle(pot, [a, b], pos, params=qeq_params)
            w = np.full(len(cols), np.nan)
            mu = (np.nan, np.nan)
        else:
            if model_name == "eam":
                c = pot.ground_weights(system)
                ev = pot.evaluate(system, pos, c) if cpe_method == "slsqp" else evaluate(pot, system, pos, c)
                mu = (np.nan, np.nan)
            else:
                res = solve(pot, system, pos, method=cpe_method)
                c, ev, mu = res.weights, res.evaluation, res.mu
            q, e, w = ev.charges, ev.energy, c
        row = {"r_bohr": float(r), "energy_hartree": float(e_ground + e), "binding_energy_hartree": float(e),
               "q_A": float(q[0]), "q_B": float(q[1]),
               "mu_hartree": float(0.5 * (mu[0] + mu[1])) if np.isfinite(mu[0]) and np.isfinite(mu[1]) else float("nan"),
               "mu_lo_hartree": float(mu[0]), "mu_hi_hartree": float(mu[1])}
        row.update({k: float(v) for k, v in zip(cols, w)})
        rows.append(row)
    return sorted(rows, key=lambda r: r["r_bohr"])


def bundle_qeq_params(pot, symbol: str):
    """QEq parameters from the bundle's own IP and EA (χ = (I + A)/2, J = I − A); EA = 0 where
    the anion is excluded (unbound)."""
    from .qeq import params_from_ip_ea

    el = pot.elements[pot.index[symbol]]
    if el.cation is None:
        raise InputError(f"bundle has no cation of {symbol}: cannot set QEq parameters from it")
    ip = float(el.delta_e[el.cation])
    ea = -float(el.delta_e[el.anion]) if el.anion is not None else 0.0
    return params_from_ip_ea(ip, ea)


def qeq_for_bundle(pot, symbols, positions_bohr, params: str = "published"):
    """QEq charges and energy (hartree, relative to neutral atoms) with the published
    Rappé–Goddard parameters or the bundle's own IP/EA."""
    from .qeq import qeq_charges

    if params == "published":
        return qeq_charges(symbols, positions_bohr)
    if params == "bundle":
        return qeq_charges(symbols, positions_bohr, params={s: bundle_qeq_params(pot, s) for s in set(symbols)})
    raise InputError(f"QEq parameters {params!r}: use 'published' or 'bundle'")
