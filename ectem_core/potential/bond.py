"""The neutral-overlap bond term of a tuned bundle (docs/model.md section 5), folded into the
Coulomb table of each element pair's two neutral ground states.

For atoms i (element a) and j (element b) with neutral ground-state weights c_i0, c_j0:

    E_bond,ij = − K_ab · Ī_ab · f(s_ab(R)) · c_i0 c_j0,   s_ab(R) = S_00(R) / S_00(R_cov,ab),
    f(s) = 2s / (1 + s)   (f = 1 at R_cov, → 2 inside, ≈ 2s → 0 at dissociation),

Ī_ab = (IP_a + IP_b)/2 (hartree, the bundle's own ionization energies), S_00 the overlap
∫ρ_a0 ρ_b0 of the two neutral ground-state densities, normalized at R_cov,ab, the sum of the
Cordero covalent radii (so K_ab Ī_ab is the bond energy the term gives at a typical bond length,
whatever the atoms' cores: normalizing by the self-overlaps √(S_aa(0) S_bb(0)) instead is
dominated by the 1s cores and leaves s_HF ≈ 0.04 where s_HH ≈ 0.4), K_ab ≥ 0 dimensionless
(Wolfsberg–Helmholz-like: a bond energy ∝ overlap × ionization energy). f saturates like the
Hückel bond energy's 1/(1 + S): the raw density overlap grows by orders of magnitude once the
cores overlap (Li–H at 1.8 bohr), which without it collapses every bond onto the table's start. The term
has the form of one more state-pair function c_i0 c_j0 u(R), so it is added to U_{a0,b0}: every
evaluator (reference model, numba kernels, CPE, periodic, LAMMPS export) sees it without a
change. u(R) → 0 faster than any power (the density overlap decays exponentially; beyond the
overlap table's end it is 0), so q → 0 and E → Σ E_atoms at dissociation are untouched.

Public: `poly_derivatives`, `bond_coulomb_table`, `bonded_pairs`.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .pair_tables import COULOMB, INTERP_TOL_DEFAULT, LOG, PairTable, _build_adaptive, _table_from


def poly_derivatives(table: PairTable, R) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, p', p'') of a table's interpolated quantity at the array R (bohr): the piece
    polynomial inside, the first piece below R_min, and beyond R_max the table's continuation
    (0 for PLAIN/COULOMB, linear in R for LOG)."""
    R = np.asarray(R, dtype=float)
    knots, c = table.knots, table.coefs
    K = knots.size - 1
    k = np.clip(np.searchsorted(knots, R, side="right") - 1, 0, K - 1)
    t = R - knots[k]
    ck = c[k]
    p = ck[:, 0] + t * (ck[:, 1] + t * (ck[:, 2] + t * (ck[:, 3] + t * (ck[:, 4] + t * ck[:, 5]))))
    dp = ck[:, 1] + t * (2 * ck[:, 2] + t * (3 * ck[:, 3] + t * (4 * ck[:, 4] + t * 5 * ck[:, 5])))
    d2p = 2 * ck[:, 2] + t * (6 * ck[:, 3] + t * (12 * ck[:, 4] + t * 20 * ck[:, 5]))
    beyond = R >= knots[K]
    if np.any(beyond):
        if table.kind == LOG:
            h = knots[K] - knots[K - 1]
            cl = c[K - 1]
            p_end = cl[0] + h * (cl[1] + h * (cl[2] + h * (cl[3] + h * (cl[4] + h * cl[5]))))
            dp_end = cl[1] + h * (2 * cl[2] + h * (3 * cl[3] + h * (4 * cl[4] + h * 5 * cl[5])))
            p[beyond] = p_end + dp_end * (R[beyond] - knots[K])
            dp[beyond] = dp_end
        else:
            p[beyond] = 0.0
            dp[beyond] = 0.0
        d2p[beyond] = 0.0
    return p, dp, d2p


def bond_coulomb_table(U: PairTable, S: PairTable, energy: float, s_norm: float,
                       tol: float = INTERP_TOL_DEFAULT) -> PairTable:
    """The Coulomb table of U(R) − energy·f(S(R)/s_norm), f(s) = 2s/(1 + s) (hartree; S the raw
    density overlap of the two neutral ground states, a LOG table; energy = K_ab Ī_ab), re-tabulated
    adaptively to `tol`·R in W = R U − qq like every Coulomb table, from U's and S's own
    interpolants (so it differs from 'U table − bond' by at most that tolerance)."""
    if U.kind != COULOMB or S.kind != LOG:
        raise InputError("bond term: needs a Coulomb U table and a logarithmic overlap table")
    if not (np.isfinite(energy) and energy >= 0.0 and np.isfinite(s_norm) and s_norm > 0.0):
        raise InputError(f"bond term: energy must be finite and >= 0, the norm > 0 (got {energy}, {s_norm})")
    if energy == 0.0:
        return U
    R_lo, R_hi = U.R_min, max(U.R_max, S.R_max)

    def func(R):
        pu, dpu, d2pu = poly_derivatives(U, R)
        ps, dps, d2ps = poly_derivatives(S, R)
        x = np.exp(ps) / s_norm
        dx = dps * x
        d2x = (d2ps + dps * dps) * x
        f, df, d2f = 2.0 * x / (1.0 + x), 2.0 / (1.0 + x) ** 2, -4.0 / (1.0 + x) ** 3
        u, du, d2u = -energy * f, -energy * df * dx, -energy * (d2f * dx * dx + df * d2x)
        return pu + R * u, dpu + u + R * du, d2pu + 2.0 * du + R * d2u

    knots, f, d, s2, worst, nev = _build_adaptive(func, R_lo, R_hi, 5, lambda R, fv: tol * R)
    return _table_from(knots, f, d, s2, COULOMB, U.qq, 5, worst * tol, nev,
                       {"bond_energy_hartree": float(energy), "bond_s_norm": float(s_norm)})


def covalent_distance(a: str, b: str) -> float:
    """Sum of the Cordero covalent radii of two elements (bohr): where s_ab = 1."""
    from ..elements import COVALENT_RADIUS_ANGSTROM
    from ..molecules.diatomics import BOHR_ANGSTROM

    try:
        return (COVALENT_RADIUS_ANGSTROM[a] + COVALENT_RADIUS_ANGSTROM[b]) / BOHR_ANGSTROM
    except KeyError as exc:
        raise InputError(f"bond term: no covalent radius for {exc.args[0]}") from None


def bonded_pairs(pairs, elements, strengths: dict, ionization: list):
    """A copy of a `loader.TablePairs` whose neutral ground-state Coulomb tables carry the bond
    term; strengths: {(ka, kb): K_ab} for element indices ka <= kb (missing pairs: no bond);
    ionization: each element's first ionization energy (hartree, from the bundle's cation ΔE,
    also when the cation is not in the ensemble, e.g. the bare proton). The shared (cached)
    provider is not modified."""
    from .loader import TablePairs

    tables = dict(pairs.tables)
    for (ka, kb), K in strengths.items():
        if K == 0.0:
            continue
        if (ka, kb) not in tables:
            raise InputError(f"bond term: no pair tables for elements {ka}, {kb}")
        ea, eb = elements[ka], elements[kb]
        if ionization[ka] is None or ionization[kb] is None:
            raise InputError(f"bond term {ea.symbol}-{eb.symbol}: the bundle lacks a cation (ionization energy)")
        ip_mean = 0.5 * (float(ionization[ka]) + float(ionization[kb]))
        g = (ea.ground, eb.ground)
        sub = dict(tables[ka, kb])
        ts = dict(sub[g])
        norm = ts["S"](covalent_distance(ea.symbol, eb.symbol))[0]
        ts["U"] = bond_coulomb_table(ts["U"], ts["S"], float(K) * ip_mean, float(norm))
        sub[g] = ts
        tables[ka, kb] = sub
    out = TablePairs.__new__(TablePairs)
    out.el = elements
    out.tables = tables
    out.self_overlap = list(pairs.self_overlap)
    return out
