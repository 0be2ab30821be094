"""Stage 2: constrained Aufbau fits of sphericalized atomic-state densities.

Model (bohr, bohr^-3):
    ρ(r) = Σ_k c_k r^{2(n_k−1)} e^{−2ζ_k r}  +  c_t r^{2β} (1 − e^{−r²/b²})^{q} e^{−2κ r},  q = max(1 − β, 0)
with c ≥ 0 (so ρ ≥ 0 everywhere: every term is non-negative), κ = √(2I), β = (Z−N+1)/κ − 1,
I the state's own ionization energy (EA for anions). Imposed exactly (not as penalties):
    ∫ρ d³r = N                 (linear in c)
    Σ_{n_k=1} c_k (ζ_k − Z) = 0 (Kato cusp ρ'(0) = −2Zρ(0); only 1s terms have ρ(0), ρ'(0) ≠ 0)
The linear coefficients are solved for every trial set of exponents by an
equality-constrained non-negative least-squares solve (variable projection); lmfit
optimizes the exponents (each bounded above κ + gap, the 1s block bracketing Z).
When 2β is an even non-negative integer (hydrogen-like: β = n−1) the tail is the Slater
term n, ζ = κ itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..errors import EctemError, InputError

FOUR_PI = 4.0 * np.pi


@dataclass(frozen=True)
class FitSettings:
    """Fit options (documented in docs/model.md, section 2).

    gap: every shell exponent ζ_k ≥ κ + gap (bohr⁻¹), so the tail alone sets the decay;
    b_bounds: range of the tail's inner length b (bohr); rho_floor: the fit window ends where
    ρ̄ falls below this (bohr⁻³) or at r_max_fit; relative_weight: weight μ of the relative
    (log-uniform) residual next to the absolute ∫ΔD² dr; max_terms: cap on shell terms;
    min_gain: Aufbau stops when a new term lowers the loss by less than this fraction."""

    gap: float = 0.2
    b_bounds: tuple = (0.2, 6.0)
    rho_floor: float = 1e-6
    r_max_fit: float = 25.0
    r_min_rel: float = 0.05
    relative_weight: float = 1e-2
    max_terms: int = 8
    min_gain: float = 0.2
    target: float = 1e-8
    n_starts: int = 3
    n_fit_points: int = 400
    tail_tol: float = 5e-3
    gap_max: float = 1.5


@dataclass
class FitResult:
    """Fitted density: shells (n, ζ, c), tail (c, b, β, κ) and metrics."""

    shells: list
    tail: dict | None
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)


# ----------------------------------------------------------------- basis functions

def slater_norm(n: float, zeta: float) -> float:
    """∫ 4π r² r^{2(n−1)} e^{−2ζr} dr = 4π Γ(2n+1) / (2ζ)^{2n+1} (n may be half-integer)."""
    return FOUR_PI * math.gamma(2 * n + 1) / (2.0 * zeta) ** (2 * n + 1)


def slater_shape(n: int, zeta: float, r: np.ndarray) -> np.ndarray:
    return r ** (2 * (n - 1)) * np.exp(-2.0 * zeta * r)


def tail_power(beta: float) -> float:
    """q = max(1 − β, 0): makes the tail behave like r² at the origin."""
    return max(1.0 - beta, 0.0)


def tail_shape(b: float, beta: float, kappa: float, r: np.ndarray) -> np.ndarray:
    """r^{2β} (1 − e^{−r²/b²})^{q} e^{−2κr}, q = max(1−β, 0): ~ r² b^{2β−2} at 0 (no cusp
    contribution, finite), and r^{2β}e^{−2κr} up to a factor 1 − q e^{−r²/b²} far out."""
    r = np.asarray(r, dtype=float)
    q = tail_power(beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = -np.expm1(-(r / b) ** 2)
        out = np.where(r > 0, r ** (2 * beta) * x**q, 0.0) * np.exp(-2.0 * kappa * r)
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def tail_norm(b: float, beta: float, kappa: float) -> float:
    """∫ 4π r² tail_shape dr: Gauss–Legendre panels in ln r (64 × 16 points from 1e-8 bohr
    to 80/κ); relative accuracy ~1e-14 for this smooth integrand (tested against quad)."""
    t_lo, t_hi = math.log(1e-8 * min(b, 1.0)), math.log(80.0 / kappa + 10.0 * b)
    edges = np.linspace(t_lo, t_hi, 65)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    t = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    w = (half[:, None] * _GL_W[None, :]).ravel()
    r = np.exp(t)
    return float(FOUR_PI * np.sum(w * r**3 * tail_shape(b, beta, kappa, r)))


def tail_params(Z: int, N: int, ionization_energy: float) -> tuple[float, float]:
    """κ = √(2I) and β = (Z − N + 1)/κ − 1 of the asymptote r^{2β} e^{−2κr}."""
    if not (ionization_energy > 0):
        raise InputError(f"ionization energy must be positive to set the density tail (got {ionization_energy})")
    kappa = math.sqrt(2.0 * ionization_energy)
    return kappa, (Z - N + 1) / kappa - 1.0


# ----------------------------------------------------------------- linear subproblem

def eq_nnls(A: np.ndarray, y: np.ndarray, E: np.ndarray, f: np.ndarray) -> np.ndarray:
    """min ||A c − y|| subject to E c = f exactly and c ≥ 0 (active-set on the KKT system).

    Start from the NNLS support of a heavily weighted augmented problem, then solve the
    equality-constrained problem on the support exactly; drop negative coefficients and
    add back variables whose multiplier says they would lower the loss, until stable."""
    m = A.shape[1]
    scale = np.linalg.norm(A) / max(np.linalg.norm(E), 1e-300) * 1e4
    c0, _ = optimize.nnls(np.vstack([A, scale * E]), np.concatenate([y, scale * f]), maxiter=50 * m)
    support = c0 > 0
    for _ in range(4 * m + 4):
        c = _eq_lsq(A, y, E, f, support)
        if c is None:
            break
        neg = support & (c < 0)
        if neg.any():
            # move toward the last feasible point: drop the most negative
            worst = np.argmin(np.where(neg, c, np.inf))
            support[worst] = False
            continue
        # KKT check for variables outside the support
        grad = A.T @ (A @ c - y)
        lam = _multipliers(A, y, E, c, support)
        reduced = grad + E.T @ lam
        candidates = (~support) & (reduced < -1e-12 * max(1.0, np.abs(grad).max()))
        if not candidates.any():
            return np.where(support, c, 0.0)
        support[np.argmin(np.where(candidates, reduced, np.inf))] = True
    c = np.where(c0 > 0, c0, 0.0)
    return c


def _eq_lsq(A, y, E, f, support):
    idx = np.flatnonzero(support)
    if len(idx) == 0:
        return None
    As, Es = A[:, idx], E[:, idx]
    k = len(idx)
    kkt = np.zeros((k + E.shape[0], k + E.shape[0]))
    kkt[:k, :k] = As.T @ As
    kkt[:k, k:] = Es.T
    kkt[k:, :k] = Es
    rhs = np.concatenate([As.T @ y, f])
    try:
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    except np.linalg.LinAlgError:
        return None
    c = np.zeros(A.shape[1])
    c[idx] = sol[:k]
    return c


def _multipliers(A, y, E, c, support):
    idx = np.flatnonzero(support)
    g = (A.T @ (A @ c - y))[idx]
    lam = np.linalg.lstsq(E[:, idx].T, -g, rcond=None)[0]
    return lam


# ----------------------------------------------------------------- the fit

@dataclass
class _Problem:
    Z: int
    N: float
    kappa: float
    beta: float
    r: np.ndarray
    D: np.ndarray
    w_abs: np.ndarray
    w_rel: np.ndarray
    tail_is_slater: int  # 0: general tail; n >= 1: tail is the Slater term n with ζ = κ
    settings: FitSettings


def _design(prob: _Problem, powers: list[int], zetas: np.ndarray, b: float):
    """Columns: D-shape of every term (4πr² × shape), their norms, and the cusp row."""
    r = prob.r
    cols, norms, cusp = [], [], []
    for n, z in zip(powers, zetas):
        cols.append(FOUR_PI * r**2 * slater_shape(n, z, r))
        norms.append(slater_norm(n, z))
        cusp.append((z - prob.Z) if n == 1 else 0.0)
    if prob.tail_is_slater:
        n = prob.tail_is_slater
        cols.append(FOUR_PI * r**2 * slater_shape(n, prob.kappa, r))
        norms.append(slater_norm(n, prob.kappa))
        cusp.append((prob.kappa - prob.Z) if n == 1 else 0.0)
    else:
        cols.append(FOUR_PI * r**2 * tail_shape(b, prob.beta, prob.kappa, r))
        norms.append(tail_norm(b, prob.beta, prob.kappa))
        cusp.append(0.0)
    return np.array(cols).T, np.array(norms), np.array(cusp)


def _solve_linear(prob: _Problem, powers, zetas, b):
    B, norms, cusp = _design(prob, powers, zetas, b)
    sa, sr = np.sqrt(prob.w_abs), np.sqrt(prob.w_rel)
    A = np.vstack([B * sa[:, None], B * sr[:, None]])
    y = np.concatenate([prob.D * sa, prob.D * sr])
    E = np.vstack([norms, cusp]) if any(p == 1 for p in powers) or prob.tail_is_slater == 1 else norms[None, :]
    f = np.array([prob.N, 0.0])[: E.shape[0]]
    # Column scaling keeps the KKT system well conditioned.
    s = 1.0 / np.maximum(np.linalg.norm(A, axis=0), 1e-300)
    c = eq_nnls(A * s, y, E * s, f) * s
    resid = A @ c - y
    return c, resid, B


def _problem(r, D, rho, Z, N, kappa, beta, settings: FitSettings) -> _Problem:
    """Fit window and weights: absolute ∫(ΔD)² dr / ∫D² dr over r ≤ r_end, plus μ × the
    relative residual (ΔD/D)² averaged uniformly in r over [r_min_rel/Z, r_end], which keeps
    the valence tail honest where ΔD itself is tiny."""
    rho_ok = rho >= settings.rho_floor
    r_end = min(settings.r_max_fit, float(r[rho_ok].max()) if rho_ok.any() else settings.r_max_fit)
    win = np.flatnonzero(r <= r_end)
    step = max(1, len(win) // settings.n_fit_points)
    win = win[::step]
    r, D = r[win], D[win]
    t = np.log(r)
    dt = np.gradient(t)
    norm = float(np.sum(D**2 * r * dt))
    w_abs = r * dt / norm
    rel = (r >= settings.r_min_rel / Z) & (D > 0)
    w_rel = np.zeros_like(r)
    w_rel[rel] = settings.relative_weight * (r * dt)[rel] / (r[rel][-1] - r[rel][0]) / D[rel] ** 2
    n_int = round((2 * beta + 2) / 2) if beta >= -1e-12 else 0
    tail_is_slater = n_int if (beta > -1e-12 and abs(beta - round(beta)) < 1e-9) else 0
    return _Problem(Z, N, kappa, beta, r, D, w_abs, w_rel, tail_is_slater, settings)


def _exponent_bounds(prob: _Problem, n: int, i: int, lo: float) -> tuple[float, float]:
    """Bounds of term i's exponent (bohr⁻¹). All ζ ≥ κ + gap. The 1s block (i = 0, 1)
    brackets Z — the lower one within [max(κ+gap, Z/2), Z), the upper within (Z, 6Z] —
    so the cusp is satisfiable with c ≥ 0 and the 1s terms stay core-like. Powers n ≥ 2
    are capped at 1.5 Z/n (Slater-like ζ ≈ (Z − s)/n), which stops an r² term with a
    huge exponent from imitating the core without a density at the nucleus."""
    Z = prob.Z
    if n == 1 and i == 0:
        return max(lo, 0.5 * Z), Z - 1e-6
    if n == 1 and i == 1:
        return Z + 1e-6, 6.0 * Z
    if n == 1:
        return max(lo, 0.5 * Z), 6.0 * Z
    return lo, max(1.5 * Z / n, lo + 0.5)


def _optimize(prob: _Problem, powers: list[int], z0: list[float], b0: float):
    """Optimize exponents (and b) with lmfit; returns (loss, zetas, b, c)."""
    import lmfit

    params = lmfit.Parameters()
    lo = prob.kappa + prob.settings.gap
    for i, (n, z) in enumerate(zip(powers, z0)):
        zmin, zmax = _exponent_bounds(prob, n, i, lo)
        params.add(f"z{i}", value=min(max(z, zmin + 1e-3 * (zmax - zmin)), zmax - 1e-3 * (zmax - zmin)),
                   min=zmin, max=zmax)
    if not prob.tail_is_slater:
        params.add("b", value=b0, min=prob.settings.b_bounds[0], max=prob.settings.b_bounds[1])

    def unpack(p):
        zs = np.array([p[f"z{i}"].value for i in range(len(powers))])
        b = p["b"].value if "b" in p else 1.0
        return zs, b

    def residual(p):
        zs, b = unpack(p)
        return _solve_linear(prob, powers, zs, b)[1]

    out = lmfit.minimize(residual, params, method="least_squares", xtol=1e-9, ftol=1e-10, max_nfev=400)
    zs, b = unpack(out.params)
    c, resid, _ = _solve_linear(prob, powers, zs, b)
    return float(resid @ resid), zs, b, c


def fit_density(r: np.ndarray, rho: np.ndarray, Z: int, N: int, ionization_energy: float,
                settings: FitSettings | None = None) -> FitResult:
    """Aufbau fit of ρ̄(r) with exact normalization and cusp and the I-set tail.

    Terms are added one at a time: the 1s block (two exponents bracketing Z, unless the
    tail itself is a 1s term with ζ = κ = Z, as for hydrogen), then one term at a time
    choosing the best power among n_max and n_max + 1 (by power, not by l) until the loss
    improves by less than `min_gain` or reaches `target` or `max_terms`.
    The gap ζ_k − κ starts at settings.gap and is widened (×1.6, up to gap_max) until the
    fitted density follows r^{2β}e^{−2κr} to tail_tol over 15–30 bohr: the asymptote must
    be carried by the tail, not by a slightly faster shell term."""
    from dataclasses import replace

    settings = settings or FitSettings()
    if N <= 0:
        raise InputError("a state with no electrons needs no fit: it is the bare nucleus (ρ = 0)")
    kappa, beta = tail_params(Z, N, ionization_energy)
    gap = settings.gap
    while True:
        st = replace(settings, gap=gap)
        res = _aufbau(r, rho, Z, N, kappa, beta, st)
        res.metrics["gap"] = gap
        ok = res.metrics["tail_ratio_variation_15_30"] <= settings.tail_tol
        if ok or gap * 1.6 > settings.gap_max or kappa + gap * 1.6 >= Z:
            res.metrics["tail_test_passed"] = bool(ok)
            return res
        gap *= 1.6


def _aufbau(r, rho, Z, N, kappa, beta, settings: FitSettings) -> FitResult:
    D = FOUR_PI * r**2 * rho
    prob = _problem(r, D, rho, Z, N, kappa, beta, settings)
    hydrogenic = prob.tail_is_slater == 1 and abs(kappa - Z) < 1e-9
    history = []
    if hydrogenic:
        powers, zetas = [], np.array([])
        c, resid, _ = _solve_linear(prob, powers, zetas, 1.0)
        best = (float(resid @ resid), zetas, 1.0, c, powers)
        history.append({"powers": [], "loss": best[0]})
    else:
        lo = kappa + settings.gap
        if lo >= Z:
            raise EctemError(f"cannot bracket Z={Z} with 1s exponents above κ+gap={lo:.3f}: lower fits.gap")
        powers = [1, 1]
        starts = [(max(Z - dz, 0.5 * (lo + Z)), f * Z) for dz in (0.3, 0.8) for f in (1.5, 3.0)]
        best = min(((*_optimize(prob, powers, list(z0), 1.0), powers) for z0 in starts), key=lambda t: t[0])
        loss = best[0]
        history.append({"powers": list(powers), "loss": loss})
        n_outer = _outer_shell(N)
        while len(best[4]) < settings.max_terms and best[0] > settings.target:
            trials = []
            n_hi = max(best[4])
            for n_new in sorted({n_hi, min(n_hi + 1, n_outer)}):
                p_new = best[4] + [n_new]
                for z_start in _start_exponents(Z, kappa, settings):
                    trials.append((*_optimize(prob, p_new, list(best[1]) + [z_start], best[2]), p_new))
            cand = min(trials, key=lambda t: t[0])
            history.append({"powers": list(cand[4]), "loss": cand[0]})
            if cand[0] > (1.0 - settings.min_gain) * best[0]:
                break
            best = cand
    loss, zs, b, c, powers = best
    shells = [{"n": int(n), "zeta": float(z), "c": float(ci)} for n, z, ci in zip(powers, zs, c[:-1])]
    if prob.tail_is_slater:
        shells.append({"n": int(prob.tail_is_slater), "zeta": float(kappa), "c": float(c[-1]), "role": "tail"})
        tail = None
    else:
        tail = {"c": float(c[-1]), "b": float(b), "beta": float(beta), "kappa": float(kappa)}
    shells = [s for s in shells if s["c"] > 0.0]
    res = FitResult(shells=shells, tail=tail, history=history)
    res.metrics = fit_metrics(res, r, rho, Z, N, kappa, beta, prob)
    return res


def _outer_shell(N: int) -> int:
    return 1 if N <= 2 else 2 if N <= 10 else 3


def _start_exponents(Z: int, kappa: float, settings: FitSettings) -> np.ndarray:
    """Deterministic multi-start for a new term's exponent: geometric between κ+gap and 2Z."""
    lo = kappa + settings.gap
    return np.geomspace(lo * 1.05, max(2.0 * Z, lo * 2.0), settings.n_starts)


# ----------------------------------------------------------------- evaluation + metrics

def evaluate(shells: list, tail: dict | None, r: np.ndarray) -> np.ndarray:
    """ρ(r) of a fitted density (bohr⁻³)."""
    rho = np.zeros_like(np.asarray(r, dtype=float))
    for s in shells:
        rho += s["c"] * slater_shape(s["n"], s["zeta"], r)
    if tail:
        rho += tail["c"] * tail_shape(tail["b"], tail["beta"], tail["kappa"], r)
    return rho


def fit_metrics(res: FitResult, r, rho, Z, N, kappa, beta, prob: _Problem | None) -> dict:
    """Checks of a fit: N, cusp ratio, ρ(0), RDF residual, tail test over 15–30 bohr."""
    n_fit = sum(s["c"] * slater_norm(s["n"], s["zeta"]) for s in res.shells)
    if res.tail:
        t = res.tail
        n_fit += t["c"] * tail_norm(t["b"], t["beta"], t["kappa"])
    rho0 = sum(s["c"] for s in res.shells if s["n"] == 1)
    cusp = cusp_ratio(res.shells, Z)
    D = FOUR_PI * r**2 * rho
    Dfit = FOUR_PI * r**2 * evaluate(res.shells, res.tail, r)
    from ..atoms.radial import simpson_log

    resid = simpson_log(r, (Dfit - D) ** 2) / simpson_log(r, D**2)
    rr = np.linspace(15.0, 30.0, 61)
    ratio = evaluate(res.shells, res.tail, rr) / (rr ** (2 * beta) * np.exp(-2 * kappa * rr))
    tail_var = float(ratio.max() / ratio.min() - 1.0) if ratio.min() > 0 else float("inf")
    # effective decay exponent of the fit between 20 and 30 bohr (should equal κ)
    r1, r2 = 20.0, 30.0
    l1 = np.log(evaluate(res.shells, res.tail, np.array([r1]))[0] / r1 ** (2 * beta))
    l2 = np.log(evaluate(res.shells, res.tail, np.array([r2]))[0] / r2 ** (2 * beta))
    zmin = min((s["zeta"] for s in res.shells if s.get("role") != "tail"), default=float("nan"))
    return {
        "n_electrons": float(N), "n_fit": float(n_fit), "n_error": float(n_fit - N),
        "cusp_ratio": float(cusp), "rho0": float(rho0),
        "rdf_residual": float(resid), "rdf_rel_l2": float(math.sqrt(resid)),
        "kappa": float(kappa), "beta": float(beta), "tail_exponent": float(-(l2 - l1) / (2 * (r2 - r1))),
        "tail_ratio_variation_15_30": tail_var,
        "min_exponent_over_kappa": float(zmin / kappa) if zmin == zmin else None,
        "n_terms": len(res.shells) + (1 if res.tail else 0),
        "window_bohr": [float(prob.r[0]), float(prob.r[-1])] if prob is not None else None,
        "rho_min_on_grid": float(evaluate(res.shells, res.tail, np.geomspace(1e-6, 60, 2000)).min()),
    }


def hydrogen_n2_exact() -> FitResult:
    """The H n=2 ensemble ¼ρ_2s + ¾ρ̄_2p = e^{−r}(4 − 4r + 2r²)/(128π) written exactly in
    the term basis: powers r⁰, r¹ (n = 3/2, negative coefficient) and r² with ζ = 1/2.
    Positivity is proved analytically, ρ = e^{−r}[(2−r)² + r²]/(128π) ≥ 0; the cusp holds
    exactly (ρ'(0)/ρ(0) = −2); the r² term is the I = 1/8 Ha tail (κ = ½, β = 1)."""
    k = 1.0 / (128.0 * np.pi)
    shells = [{"n": 1, "zeta": 0.5, "c": 4.0 * k}, {"n": 1.5, "zeta": 0.5, "c": -4.0 * k},
              {"n": 2, "zeta": 0.5, "c": 2.0 * k, "role": "tail"}]
    return FitResult(shells=shells, tail=None, history=[{"powers": "exact", "loss": 0.0}])


def cusp_ratio(shells: list, Z: int) -> float:
    """−ρ'(0)/(2Zρ(0)) from the terms with a value or slope at the origin (powers 0 and 1)."""
    rho0 = sum(s["c"] for s in shells if s["n"] == 1)
    drho0 = sum(-2.0 * s["zeta"] * s["c"] for s in shells if s["n"] == 1)
    drho0 += sum(s["c"] for s in shells if s["n"] == 1.5)
    return -drho0 / (2.0 * Z * rho0) if rho0 > 0 else float("nan")
