"""Stage 3: state embedding functions from the Daw–Baskes concordance (docs/embedding.md).

For a frozen spherical state density ρ_s (a `slater.RadialDensity`) embedded in a uniform,
neutral electron gas of density ρ̄ (atomic units: ρ in bohr⁻³, energies in hartree):

Daw (DFT, non-additive parts only)
    F_D(ρ̄; a, λ) = a L(ρ̄) + λ W(ρ̄)
    L(ρ̄) = ∫ [g(ρ_s+ρ̄) − g(ρ_s) − g(ρ̄)] d³r,   g(ρ) = C_F ρ^{5/3} + ρ ε_xc^{LDA}(ρ)
    W(ρ̄) = (1/8) ∫ |∇ρ_s|² [1/(ρ_s+ρ̄) − 1/ρ_s] d³r = −(ρ̄/8) ∫ (ρ_s'²/ρ_s) / (ρ_s+ρ̄) d³r
  ε_xc from libxc through PySCF ('lda,pw': Slater exchange + Perdew–Wang 92 correlation,
  spin-unpolarized). Radial integrals on a Gauss–Legendre grid in ln r; differences such
  as g(ρ_s+ρ̄) − g(ρ_s) are Taylor-expanded about the larger density where the smaller one
  is below 1e-3 of it (no cancellation where ρ_s → 0 or ρ̄ → 0). F_D(0) = 0 exactly.
  Small-ρ̄ behaviour: L(ρ̄) = ρ̄ ∫ g'(ρ_s) d³r + O(ρ̄^{4/3} ln³ρ̄); W(ρ̄) diverges in slope like
  −ρ̄ ln³(1/ρ̄) (π/(12κ)) since (∇ ln ρ_s)² → 4κ² in the tail — a ρ̄ ln ρ̄-type onset, as Baskes'.

Baskes (MEAM)
    F_B(ρ̄; E, ρ̄₀) = E (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀),   E = A·E_c;  minimum −E/e at ρ̄₀/e.

Concordance: (a, λ, E, ρ̄₀) minimize
    Σ_k w_k (F_D − F_B)²/σ_F² + ((a−1)/σ_a)² + ((λ−λ₀)/σ_λ)² + (ln(E/E_p)/σ_lnE)²
over a window of background densities the potential samples near bonding distances
(overlap-averaged ρ̄ of this state with the neutral ground states of the element set at
0.8–1.5 × typical bond lengths), weighted toward the repulsive wall. Where F_D has no
minimum or the parity residual exceeds a fraction of |F_min|, the embedding function is
a spline of F_D(a=1, λ=λ₀) instead (form 'daw_spline').

No electrostatics enters F for any state (the gas and its background are neutral); the
gas's screening response to a charged state is omitted (docs/embedding.md).

Evaluator: `embedding_function(record)` → vectorized F(ρ̄) returning (F, dF/dρ̄, d²F/dρ̄²);
the numba kernels `eval_baskes` and `eval_table` can be called from other njit code.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..density import slater
from .daw import LAMBDA0, DawCurves, daw_curves, daw_slope_local, radial_grid, vw_integral
from .function import FORMS, eval_packed, pack_baskes, pack_table, table_from_daw  # noqa: F401  (FORMS re-exported)
from .settings import EmbeddingSettings
from .window import background_window

# ------------------------------------------------------------------------------ concordance

@dataclass(frozen=True)
class Priors:
    """Gaussian priors on a and λ, log-normal prior on A·E_c (sigma_lambda = 0: λ fixed)."""

    aec0: float
    a0: float = 1.0
    sigma_a: float = 0.1
    lambda0: float = LAMBDA0
    sigma_lambda: float = 0.03
    sigma_ln_aec: float = 0.7


def concordance_fit(curves: DawCurves, weights, scale, priors: Priors | None, sigma_rel: float = 0.05,
                    lambda_start: float = LAMBDA0, aec_start: float | None = None, n_starts: int = 12) -> dict:
    """Fit (a, λ, A·E_c, ρ̄₀) so that F_D(a, λ) ≈ F_B(A·E_c, ρ̄₀) on the window in `curves`.

    Residuals: sqrt(w_k) (F_D − F_B)/(scale_k σ_rel) plus, with priors, (a−a0)/σ_a,
    (λ−λ₀)/σ_λ and ln(A·E_c/aec0)/σ_lnE. Bounds: 0 <= a <= 3, 0 <= λ <= 1,
    1e-30 <= A·E_c <= 10 Ha, ρ̄₀ within 1e-4 ρ̄_lo ... 1e4 ρ̄_hi. Without priors the
    problem is solved exactly by the zero solution a = λ = A·E_c → 0 (both forms are linear in
    their scales); the priors are what keeps the fit away from it. Multi-start in ln ρ̄₀."""
    from scipy.optimize import least_squares

    x = curves.rho_bar
    w = np.asarray(weights, dtype=float)
    s = np.asarray(scale, dtype=float)
    sw = np.sqrt(w) / (s * sigma_rel)
    fix_lambda = priors is not None and priors.sigma_lambda == 0
    lam_fixed = priors.lambda0 if fix_lambda else None
    E0 = priors.aec0 if priors is not None else (aec_start or float(np.max(np.abs(curves.F(1.0, lambda_start)))))
    lr_lo, lr_hi = math.log(x[0] * 1e-4), math.log(x[-1] * 1e4)

    def unpack(p):
        if fix_lambda:
            return p[0], lam_fixed, math.exp(p[1]), math.exp(p[2])
        return p[0], p[1], math.exp(p[2]), math.exp(p[3])

    def residuals(p):
        a, lam, E, r0 = unpack(p)
        FB = E * (x / r0) * np.log(x / r0)
        r = sw * (curves.F(a, lam) - FB)
        if priors is None:
            return r
        extra = [(a - priors.a0) / priors.sigma_a, math.log(E / priors.aec0) / priors.sigma_ln_aec]
        if not fix_lambda:
            extra.append((lam - priors.lambda0) / priors.sigma_lambda)
        return np.concatenate([r, extra])

    lb = [0.0] + ([] if fix_lambda else [0.0]) + [math.log(1e-30), lr_lo]
    ub = [3.0] + ([] if fix_lambda else [1.0]) + [math.log(10.0), lr_hi]
    best = None
    for lr in np.linspace(math.log(x[0] / 100.0), math.log(x[-1] * 10.0), n_starts):
        p0 = [1.0] + ([] if fix_lambda else [lambda_start]) + [math.log(max(E0, 1e-29)), lr]
        sol = least_squares(residuals, p0, bounds=(lb, ub), x_scale="jac", max_nfev=2000)
        if best is None or sol.cost < best.cost:
            best = sol
    a, lam, E, r0 = unpack(best.x)
    FD, FB = curves.F(a, lam), E * (x / r0) * np.log(x / r0)
    diff = FD - FB
    out = {
        "a": float(a), "lambda": float(lam), "A_Ec_hartree": float(E), "rho0_bar": float(r0),
        "parity_rms_hartree": float(math.sqrt(np.sum(w * diff**2) / np.sum(w))),
        "parity_rel_rms": float(math.sqrt(np.sum(w * (diff / s) ** 2) / np.sum(w))),
        "cost": float(best.cost), "nfev": int(best.nfev), "optimizer_status": int(best.status),
        "lambda_fixed": bool(fix_lambda), "priors": None if priors is None else asdict(priors),
    }
    if priors is not None:
        out["prior_pulls_sigma"] = {"a": (a - priors.a0) / priors.sigma_a,
                                    "lambda": None if fix_lambda else (lam - priors.lambda0) / priors.sigma_lambda,
                                    "ln_A_Ec": math.log(E / priors.aec0) / priors.sigma_ln_aec}
    return out


def _table_minimum(packed: np.ndarray, rho_knots: np.ndarray) -> tuple[float, float, bool]:
    """(F_min, ρ̄ at min, interior) of a packed function: smallest knot value refined by the
    root of F' (Brent) between its neighbours; interior False when the smallest value is at
    an end knot."""
    from scipy.optimize import brentq

    F, dF, _ = eval_packed(rho_knots, packed)
    k = int(np.argmin(F))
    if k == 0 or k == rho_knots.size - 1:
        return float(F[k]), float(rho_knots[k]), False
    f1 = lambda r: eval_packed(np.array([r]), packed)[1][0]  # noqa: E731
    lo, hi = rho_knots[k - 1], rho_knots[k + 1]
    if f1(lo) < 0 < f1(hi):
        r = brentq(f1, lo, hi, xtol=1e-14 * hi, rtol=1e-12)
    else:
        r = rho_knots[k]
    return float(eval_packed(np.array([r]), packed)[0][0]), float(r), True


def embed_state(rd: slater.RadialDensity | None, n_electrons: float, symbol: str, partners: dict,
                settings: EmbeddingSettings | None = None) -> dict:
    """Everything stage 3 computes for one state (the record body, see embedding_records).

    partners: {element: RadialDensity of its neutral ground state} for the window."""
    settings = settings or EmbeddingSettings()
    if rd is None or n_electrons == 0 or rd.n_electrons == 0:
        return {"form": "zero", "reason": "bare nucleus: no electrons, F ≡ 0 exactly",
                "a": None, "lambda": None, "A_Ec_hartree": None, "rho0_bar": None,
                "parity_rms_hartree": None, "parity_rel_rms": None, "parity_rms_over_fmin": None,
                "F_min_hartree": 0.0, "rho_at_min": None, "table": None}
    lam0 = settings.lambda0
    grid = radial_grid(rd)
    knots = np.exp(np.linspace(math.log(settings.rho_table_min), math.log(settings.rho_table_max), settings.n_table))
    tab_curves = daw_curves(rd, knots, settings.xc, grid)
    nominal_tab = table_from_daw(tab_curves, 1.0, lam0)
    nominal_packed = pack_table(nominal_tab["t0"], nominal_tab["dt"], nominal_tab["h"], nominal_tab["h_t"],
                                nominal_tab["h_tt"])
    d_min, d_rho, interior = _table_minimum(nominal_packed, knots)
    has_min = interior and d_min < -settings.min_depth_hartree
    win = background_window(rd, n_electrons, symbol, partners, settings)
    wcurves = daw_curves(rd, win["rho_bar"], settings.xc, grid)
    F0w = wcurves.F(1.0, lam0)
    body = {
        "daw_nominal": {"a": 1.0, "lambda": lam0, "F_min_hartree": d_min, "rho_at_min": d_rho,
                        "has_minimum": bool(has_min), "slope_local_at_0": daw_slope_local(rd, settings.xc),
                        "vw_integral": vw_integral(rd, grid)},
        "window": {"rho_lo": win["rho_lo"], "rho_hi": win["rho_hi"], "partners": win["samples"],
                   "rho_bar": win["rho_bar"].tolist(), "weights": win["weights"].tolist(),
                   "F_daw_nominal": F0w.tolist()},
    }
    fit = None
    if has_min:
        scale = np.maximum(np.abs(F0w), abs(d_min))
        priors = Priors(aec0=math.e * abs(d_min), sigma_a=settings.sigma_a, lambda0=lam0,
                        sigma_lambda=settings.sigma_lambda, sigma_ln_aec=settings.sigma_ln_aec)
        fit = concordance_fit(wcurves, win["weights"], scale, priors, settings.sigma_rel, lambda_start=lam0)
        body["window"]["scale"] = scale.tolist()
        body["window"]["F_daw_fit"] = wcurves.F(fit["a"], fit["lambda"]).tolist()
        x = win["rho_bar"]
        fb = fit["A_Ec_hartree"] * (x / fit["rho0_bar"]) * np.log(x / fit["rho0_bar"])
        body["window"]["F_baskes_fit"] = fb.tolist()
    body["concordance_fit"] = fit
    if not has_min:
        form = "daw_spline"
        reason = (f"the nominal Daw curve (a = 1, λ = {lam0:.4g}) has no minimum deeper than "
                  f"{settings.min_depth_hartree:g} Ha: no Baskes well fits it")
    else:
        fit["parity_rms_over_fmin"] = fit["parity_rms_hartree"] / abs(d_min)
        measure = fit["parity_rel_rms"] if settings.parity_measure == "relative" else fit["parity_rms_over_fmin"]
        what = ("weighted rms of (F_D − F_B)/max(|F_D|, |F_min|)" if settings.parity_measure == "relative"
                else "weighted rms of (F_D − F_B) / |F_min|")
        if measure > settings.parity_tolerance:
            form = "daw_spline"
            reason = f"parity residual {measure:.3f} ({what}) exceeds the tolerance {settings.parity_tolerance:g}"
        else:
            form = "concordance"
            reason = (f"Daw and Baskes agree: parity residual {measure:.3f} ({what}) within the tolerance "
                      f"{settings.parity_tolerance:g}")
    curve_sel = (knots >= 1e-7 * (1 - 1e-9)) & (knots <= 10.0 * (1 + 1e-9))
    ck = knots[curve_sel]
    curve = {"rho_bar": ck.tolist(), "F_daw_nominal": tab_curves.F(1.0, lam0)[curve_sel].tolist()}
    if fit is not None:
        curve["F_daw_fit"] = tab_curves.F(fit["a"], fit["lambda"])[curve_sel].tolist()
        curve["F_baskes_fit"] = (fit["A_Ec_hartree"] * (ck / fit["rho0_bar"]) * np.log(ck / fit["rho0_bar"])).tolist()
    if form == "concordance":
        packed = pack_baskes(fit["A_Ec_hartree"], fit["rho0_bar"])
        top = {"a": fit["a"], "lambda": fit["lambda"], "A_Ec_hartree": fit["A_Ec_hartree"], "rho0_bar": fit["rho0_bar"],
               "F_min_hartree": -fit["A_Ec_hartree"] / math.e, "rho_at_min": fit["rho0_bar"] / math.e, "table": None}
    else:
        packed = nominal_packed
        top = {"a": 1.0, "lambda": lam0, "A_Ec_hartree": None, "rho0_bar": None,
               "F_min_hartree": d_min, "rho_at_min": d_rho, "table": nominal_tab}
    F, dF, d2F = eval_packed(ck, packed)
    curve.update({"F": F.tolist(), "dF": dF.tolist(), "d2F": d2F.tolist()})
    return {"form": form, "reason": reason, **top,
            "parity_rms_hartree": fit["parity_rms_hartree"] if fit else None,
            "parity_rel_rms": fit["parity_rel_rms"] if fit else None,
            "parity_rms_over_fmin": fit["parity_rms_over_fmin"] if fit else None,
            "curve": curve, **body}

