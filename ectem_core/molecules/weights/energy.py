"""Energy weights: ensemble weights fitted so the ECT-EAM energy reproduces a reference
binding energy, regularized toward the CPE weights, and the per-geometry consistency row
that compares them with the density weights and the CPE weights (docs/weights.md).

    minimize  (E_model(c) − E_ref)² + λ ‖c − c_CPE‖²
    over      c_is ≥ 0, Σ_s c_is = 1 per atom, Σ_i q_i = Q (Q = Σ q of c_CPE)

E is relative to the separated neutral ground-state atoms (hartree); λ is in hartree² (the
weights are dimensionless). One energy per geometry against many weights can always be
matched, so an unregularized fit proves nothing: report λ and ‖c − c_CPE‖ with every fit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from ...errors import InputError

DEFAULT_LADDER = tuple(10.0 ** k for k in range(-6, 3))   # 1e-6 … 1e2 hartree²
_OBJ_SCALE = 1e6   # objective in mHa² (÷ (1 + λ)) for the optimizer; the minimizer is unchanged


@dataclass
class EnergyWeights:
    """One regularized energy fit (hartree, e)."""

    lam: float                    # λ (hartree²)
    weights: np.ndarray
    charges: np.ndarray
    energy_hartree: float         # E_model(c) relative to separated neutral atoms
    e_ref_hartree: float
    residual_hartree: float       # E_model(c) − E_ref
    e_cpe_hartree: float
    distance_from_cpe: float      # ‖c − c_CPE‖ (Euclidean, all weights)
    charge_change: np.ndarray     # q − q_CPE per atom
    objective: float              # (E − E_ref)² + λ‖c − c_CPE‖² (hartree²)
    constraint_residual: float
    kkt_residual: float           # first-order optimality gap / gradient scale
    n_starts: int
    converged: bool

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("weights", "charges", "charge_change"):
            d[k] = [float(x) for x in np.asarray(d[k])]
        return d


def _checked(potential, symbols, positions, c_cpe):
    system = potential.system(list(symbols))
    pos = np.asarray(positions, dtype=float)
    if pos.size != 3 * system.n_atoms or not np.all(np.isfinite(pos)):
        raise InputError(f"positions must be {system.n_atoms} finite (x, y, z) rows in bohr, got shape {pos.shape}")
    c0 = np.asarray(c_cpe, dtype=float)
    if c0.shape != (system.offsets[-1],):
        raise InputError(f"c_cpe has {c0.size} weights; {'-'.join(symbols)} needs {system.offsets[-1]} "
                         "(use cpe.solve(...).weights for the same potential)")
    if np.any(c0 < -1e-12):
        raise InputError("c_cpe has negative weights: pass the CPE weights (cpe.solve(...).weights)")
    return system, pos.reshape(-1, 3), c0


def _constraints(potential, system, Q):
    """Rows: one simplex row per atom, then Σ_i q_i = Q."""
    n, m = system.n_atoms, int(system.offsets[-1])
    A = np.zeros((n + 1, m))
    for i in range(n):
        A[i, system.slice(i)] = 1.0
    A[n] = potential.charge_vector(system)
    return A, np.concatenate([np.ones(n), [Q]])


ENERGY_PRECISION_HARTREE = 1e-10   # precision of E_model(c) (pair tables, quadrature), hartree


def fit_energy_weights(potential, symbols, positions, e_ref_binding: float, c_cpe, lam: float,
                       warm_start=None) -> EnergyWeights:
    """Weights minimizing (E_model(c) − E_ref)² + λ‖c − c_CPE‖² under the simplex rules and
    the CPE total charge. The objective is not convex (E is bilinear in the weights), so it is
    minimized from c_CPE, every feasible vertex and its midpoint with c_CPE (≤ 2 atoms), and
    `warm_start`; the lowest objective wins."""
    from ...potential.cpe import vertices
    from ...potential.simplex import first_order_gap, minimize_on_simplex, project

    if not np.isfinite(lam) or lam < 0:
        raise InputError(f"regularization λ must be a finite number ≥ 0 (hartree²), got {lam!r}")
    if not np.isfinite(e_ref_binding):
        raise InputError(f"reference binding energy must be finite (hartree), got {e_ref_binding!r}")
    system, pos, c0 = _checked(potential, symbols, positions, c_cpe)
    Q = float(potential.charges(system, c0).sum())
    A, b = _constraints(potential, system, Q)
    c0 = project(c0.copy(), A, b)
    ev0 = potential.evaluate(system, pos, c0, want_forces=False)

    scale = _OBJ_SCALE / (1.0 + lam)

    def grad_e(c):
        ev = potential.evaluate(system, pos, c, want_forces=False)
        return ev.energy, ev.grad_c

    def obj(c, hess=True):
        e, ge = grad_e(c)
        r = e - e_ref_binding
        d = c - c0
        f = r * r + lam * float(d @ d)
        g = 2.0 * r * ge + 2.0 * lam * d
        if not hess:
            return scale * f, scale * g, None
        # ∇²E by central differences of the analytic gradient (E is smooth in c)
        h = 1e-5
        He = np.empty((len(c), len(c)))
        for k in range(len(c)):
            dc = np.zeros(len(c))
            dc[k] = h
            He[:, k] = (grad_e(c + dc)[1] - grad_e(c - dc)[1]) / (2 * h)
        He = 0.5 * (He + He.T)
        H = 2.0 * np.outer(ge, ge) + 2.0 * r * He + 2.0 * lam * np.eye(len(c))
        return scale * f, scale * g, scale * H

    starts = [c0]
    if warm_start is not None:
        starts.append(np.asarray(warm_start, dtype=float))
    if system.n_atoms <= 2:
        for v in vertices(potential, system, Q):
            starts += [v, 0.5 * (v + c0)]
    best = None
    for s0 in starts:
        res = optimize.minimize(lambda c: obj(c, hess=False)[:2], s0, jac=True, method="SLSQP",
                                bounds=[(0.0, 1.0)] * len(c0),
                                constraints=[{"type": "eq", "fun": lambda c: A @ c - b, "jac": lambda c: A}],
                                options={"ftol": 1e-16, "maxiter": 500})
        c = project(np.asarray(res.x, dtype=float), A, b)
        f = obj(c, hess=False)[0]
        if best is None or f < best[1]:
            best = (c, f)
    # polish the best start: active-set Newton with the KKT conditions checked
    c, info = minimize_on_simplex(obj, A, b, x0=best[0], tol=1e-8, presolve=False)
    # KKT residual relative to the two gradient parts that must balance at the optimum
    e, ge = grad_e(c)
    part_e, part_r = 2.0 * (e - e_ref_binding) * ge, 2.0 * lam * (c - c0)
    gap, _ = first_order_gap(part_e + part_r, A, c > 0)
    kkt = max(-gap, 0.0) / (np.abs(part_e).max() + np.abs(part_r).max() + 1e-300)
    # Stationary to 1e-6 of the gradient scale, or to what an energy error of
    # ENERGY_PRECISION_HARTREE allows: at tiny λ both gradient parts are ~1e-8 and the relative
    # measure asks for E to 1e-14 Ha, below the precision of the tabulated pair terms.
    floor = 2.0 * ENERGY_PRECISION_HARTREE * np.abs(ge).max()
    best = (c, obj(c, hess=False)[0], bool(kkt <= 1e-6 or max(-gap, 0.0) <= floor), kkt)
    c = best[0]
    ev = potential.evaluate(system, pos, c, want_forces=False)
    d = c - c0
    return EnergyWeights(
        lam=float(lam), weights=c, charges=np.asarray(ev.charges, float), energy_hartree=float(ev.energy),
        e_ref_hartree=float(e_ref_binding), residual_hartree=float(ev.energy - e_ref_binding),
        e_cpe_hartree=float(ev0.energy), distance_from_cpe=float(np.linalg.norm(d)),
        charge_change=np.asarray(ev.charges, float) - np.asarray(ev0.charges, float),
        objective=float(best[1] / scale), constraint_residual=float(np.abs(A @ c - b).max()),
        kkt_residual=float(best[3]), n_starts=len(starts), converged=best[2])


def scan_regularization(potential, symbols, positions, e_ref_binding: float, c_cpe,
                        lams=DEFAULT_LADDER) -> list[EnergyWeights]:
    """fit_energy_weights over a λ ladder, from large λ to small, each fit also warm-started
    from the previous one. For exact minimizers ‖c − c_CPE‖ is non-increasing and |E − E_ref|
    non-decreasing in λ (the trade-off curve)."""
    lams = sorted({float(x) for x in lams}, reverse=True)
    if not lams:
        raise InputError("scan_regularization needs at least one λ value")
    out, prev = [], None
    for lam in lams:
        r = fit_energy_weights(potential, symbols, positions, e_ref_binding, c_cpe, lam, warm_start=prev)
        out.append(r)
        prev = r.weights
    return out[::-1]


def consistency_row(density, cpe_result, energy, r_bohr: float) -> dict:
    """The benchmark-table numbers of one geometry from a DensityWeights fit, a CPEResult and an
    EnergyWeights fit (same symbols and weight layout): charges of atom A from each, their
    disagreement as a charge and as a weight-space distance, and the fit diagnostics."""
    cd, cc, ce = (np.asarray(x, float) for x in (density.weights, cpe_result.weights, energy.weights))
    if not (cd.shape == cc.shape == ce.shape):
        raise InputError(f"weight layouts differ (density {cd.size}, CPE {cc.size}, energy {ce.size} weights): "
                         "build all three from the same bundle with the same proton setting")
    q_d = float(density.charges[0])
    q_c = float(cpe_result.evaluation.charges[0])
    q_e = float(energy.charges[0])
    return {
        "r_bohr": float(r_bohr),
        "q_A_density": q_d, "q_A_cpe": q_c, "q_A_energy_fit": q_e,
        "disagreement_q": abs(q_d - q_c),
        "disagreement_w": float(np.linalg.norm(cd - cc)),
        "disagreement_q_energy_fit": abs(q_e - q_c),
        "fit_residual": float(density.fit_residual),
        "condition_number": float(density.condition_number),
        "loss": density.loss,
        "regularization": float(energy.lam),
        "distance_from_cpe": float(energy.distance_from_cpe),
        "energy_residual_hartree": float(energy.residual_hartree),
        "e_cpe_hartree": float(energy.e_cpe_hartree),
    }


def consistency_from_reference(bundle, reference, e_ref_binding: float, lam: float = 1e-2,
                               loss: str = "kl", grid_level: int = 3, variant: str = "pure",
                               background: str = "overlap", proton: bool = False) -> dict:
    """consistency_row for one molecular reference (`density_weights.load_reference` dict or
    the .npz path): density fit, CPE and the regularized energy fit at the reference geometry.
    `e_ref_binding` is the reference energy relative to the separated atoms at the same level."""
    from ...potential import cpe
    from ...potential.bundle import load_bundle
    from ...potential.loader import load_potential
    from .density import fit_density_weights, load_reference

    ref = reference if isinstance(reference, dict) else load_reference(reference)
    bdict = bundle if isinstance(bundle, dict) else load_bundle(bundle)
    pot = load_potential(bundle if not isinstance(bundle, dict) else bdict, variant=variant,
                         background=background, proton=proton)
    symbols = [ref["mol"].atom_pure_symbol(i) for i in range(ref["mol"].natm)]
    pos = ref["mol"].atom_coords()
    dens = fit_density_weights(bdict, ref["mol"], ref["dm"], loss=loss, grid_level=grid_level, proton=proton)
    system = pot.system(symbols)
    cres = cpe.solve(pot, system, pos)
    en = fit_energy_weights(pot, symbols, pos, e_ref_binding, cres.weights, lam)
    row = consistency_row(dens, cres, en, ref["r_bohr"])
    row["branch"] = ref.get("branch")
    return row
