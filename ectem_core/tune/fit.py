"""Regularized least squares of the tuning parameters (lmfit, deterministic).

Residuals (dimensionless): for every training curve and point w_k (E_model(R_k) − E_ref(R_k))/σ_E
(`curves.well_weights`, σ_E = tune.sigma_energy_eV, default 0.05 eV), then one prior residual per
parameter, (x − x₀)/σ_x with x = ln β, ln γ or K and x₀ the atoms-only value. Fitted variables are
x (so the priors are exactly quadratic); bounds are the physical bounds of `terms`. The
optimizer is SciPy's trust-region reflective least squares through lmfit, started at the
atoms-only values, finite-difference Jacobian with a relative step 1e-3 (the pure model's
weights switch between vertices, so E(θ) has kinks; a larger step sees through them).
Uncertainties and correlations: lmfit's covariance (Jacobian at the optimum, scaled by the
reduced χ²), on x; for β and γ the standard error is propagated to the scale (σ_β = β σ_lnβ).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .curves import EV, Curve, model_curve
from .terms import Parameter, tuned_bundle

DEFAULT_SIGMA_ENERGY_EV = 0.05
DIFF_STEP = 1e-3
# Start values: the atoms-only β, γ; the bond strengths start inside their bounds, because at
# K = 0 the pair strength √(K_A K_B) has no gradient in either element's K.
START = {"K": 0.5}


@dataclass
class FitResult:
    values: dict                 # parameter name -> value (β, γ, K)
    stderr: dict                 # parameter name -> standard error (same units), None if unknown
    correlations: dict           # "p1|p2" -> correlation of the fitted variables (|r| > 0.1)
    chi2: float
    chi2_data: float
    chi2_prior: float
    n_residuals: int
    n_evaluations: int
    success: bool
    message: str
    seconds: float
    trained_on: list = field(default_factory=list)


def _to_x(p: Parameter, v: float) -> float:
    return v if p.kind == "K" else math.log(v)


def _from_x(p: Parameter, x: float) -> float:
    return x if p.kind == "K" else math.exp(x)


def _x_name(p: Parameter) -> str:
    """lmfit's name of the fitted variable (an identifier: 'K_H-F' → 'K_H_F')."""
    return p.name.replace("-", "_") if p.kind == "K" else f"ln_{p.name}"


def tuned_potential(bundle: dict, values: dict, params):
    """The pure-variant Potential of the tuned bundle (the same path the tuned bundle file takes)."""
    from ..potential.loader import Potential
    from ..potential.model import ModelOptions

    return Potential(tuned_bundle(bundle, values, params), ModelOptions())


def residuals(bundle: dict, curves: list[Curve], params, values: dict, sigma_e: float) -> tuple[np.ndarray, np.ndarray]:
    """(data residuals, prior residuals) at `values`."""
    pot = tuned_potential(bundle, values, params)
    data = [c.weights * (model_curve(pot, c.a, c.b, c.r)[0] - c.e_ref) / sigma_e for c in curves]
    prior = np.array([p.prior_residual(values[p.name]) for p in params])
    return (np.concatenate(data) if data else np.zeros(0)), prior


def fit(bundle: dict, curves: list[Curve], params: list[Parameter], sigma_energy_ev: float = DEFAULT_SIGMA_ENERGY_EV,
        max_nfev: int = 400, progress=None) -> FitResult:
    """Fit `params` to `curves` (see module doc); progress(str) gets one line per 20 evaluations."""
    import lmfit

    if not curves:
        raise InputError("tuning needs at least one reference curve")
    if not params:
        raise InputError("tuning needs at least one parameter (tune.parameters)")
    if not sigma_energy_ev > 0:
        raise InputError(f"tune.sigma_energy_eV must be > 0 (got {sigma_energy_ev})")
    sigma_e = sigma_energy_ev / EV
    lp = lmfit.Parameters()
    for p in params:
        lo, hi = p.bounds
        lp.add(_x_name(p), value=_to_x(p, START.get(p.kind, p.centre)), min=_to_x(p, lo), max=_to_x(p, hi))
    count = [0]
    t0 = time.perf_counter()

    def values_of(lpar) -> dict:
        return {p.name: _from_x(p, float(lpar[_x_name(p)].value)) for p in params}

    def objective(lpar):
        count[0] += 1
        d, pr = residuals(bundle, curves, params, values_of(lpar), sigma_e)
        if progress and count[0] % 20 == 0:
            progress(f"tune: evaluation {count[0]}, chi2 {float(d @ d + pr @ pr):.4g} "
                     f"({time.perf_counter() - t0:.0f} s)")
        return np.concatenate([d, pr])

    out = lmfit.minimize(objective, lp, method="least_squares", max_nfev=max_nfev,
                         diff_step=DIFF_STEP, x_scale=1.0)
    values = values_of(out.params)
    d, pr = residuals(bundle, curves, params, values, sigma_e)
    stderr, corr = {}, {}
    for p in params:
        par = out.params[_x_name(p)]
        se = par.stderr
        if se is None or not np.isfinite(se):
            stderr[p.name] = None
        else:
            stderr[p.name] = float(se if p.kind == "K" else values[p.name] * se)
        for other, r in (par.correl or {}).items():
            if abs(r) > 0.1:
                q = next(x for x in params if _x_name(x) == other)
                key = "|".join(sorted((p.name, q.name)))
                corr[key] = float(r)
    return FitResult(values, stderr, corr, float(d @ d + pr @ pr), float(d @ d), float(pr @ pr),
                     int(d.size + pr.size), count[0], bool(out.success), str(out.message),
                     time.perf_counter() - t0, [c.mol for c in curves])
