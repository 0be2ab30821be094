"""Classic charge equilibration (QEq) of Rappé & Goddard, J. Phys. Chem. 95, 3358 (1991).

The baseline that ECT-EAM is compared against (docs/model.md section 4):

    E(q) = sum_i [chi_i q_i + 1/2 J_i q_i^2] + sum_{i<j} q_i q_j J_ij(R_ij),  sum_i q_i = Q,

minimized exactly by one linear (KKT) solve.  E is the energy relative to the neutral atoms
(hartree); charges in e, positions in bohr.

J_ij(R) ("shielded Coulomb"):
* ``shielding="slater"`` (default, the paper's form): the Coulomb integral between the
  charge densities |phi_ns|^2 of normalized ns Slater orbitals on i and j, evaluated exactly
  by ``slater.coulomb``.  The orbital exponent follows the paper from the covalent radius R_A
  of its Table I:  zeta_A = lambda (2 n_A + 1) / (2 R_A), lambda = 0.4913, n_A the principal
  quantum number of the valence shell (H 1, Li-F 2, Na-Cl 3).  J_ij -> 1/R at large R and is
  finite at R = 0.
* ``shielding="reaxff"``: 1 / (R^3 + gamma_ij^-3)^(1/3), gamma_ij = sqrt(J_i J_j) (so
  J_ij(0) = sqrt(J_i J_j)); a documented cheap alternative, not the paper's.

Parameters: ``published_params(symbol)`` reads the paper's chi, J (eV, converted to hartree)
and R_A (Å) from ``ectem_core/data/qeq_rappe_goddard.csv``.  QEq makes hydrogen's J (and
zeta) charge dependent (J_H(q) = (1 + q/zeta_H0) J_H0); here hydrogen keeps its neutral-atom J
and zeta, so E stays quadratic and the solve linear.  ``params_from_ip_ea(I, A)`` builds the
variant from a bundle's own ionization energy and electron affinity: chi = (I + A)/2,
J = I - A.

The dissociation failure: for a neutral pair A-B at R -> infinity, J_AB -> 0 and
q_A -> (chi_B - chi_A) / (J_A + J_B) != 0 (``limiting_charge``): LiF 0.399, NaCl 0.395,
HF 0.220 with the published parameters.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..density import slater
from ..elements import BOHR_ANGSTROM, HARTREE_EV, atomic_number
from ..errors import InputError

__all__ = [
    "QEqParams",
    "LAMBDA_RG",
    "published_params",
    "params_from_ip_ea",
    "principal_quantum_number",
    "zeta_from_radius",
    "shielded_coulomb",
    "qeq_matrix",
    "qeq_charges",
    "qeq_energy",
    "limiting_charge",
    "pair_charge",
]

LAMBDA_RG = 0.4913  # Rappé & Goddard's scaling of the orbital exponent
_CSV = Path(__file__).resolve().parents[1] / "data" / "qeq_rappe_goddard.csv"


@dataclass(frozen=True)
class QEqParams:
    """One element's QEq parameters (atomic units).

    chi: electronegativity (hartree); J: idempotential / hardness (hartree); zeta: exponent
    of the ns Slater orbital (1/bohr) of the shielded Coulomb integral; n: its principal
    quantum number."""

    chi: float
    J: float
    zeta: float
    n: int = 1

    def __post_init__(self):
        if not all(math.isfinite(v) for v in (self.chi, self.J, self.zeta)):
            raise InputError("QEqParams: chi, J and zeta must be finite")
        if self.J <= 0 or self.zeta <= 0:
            raise InputError("QEqParams: J and zeta must be > 0")
        if int(self.n) != self.n or not 1 <= self.n <= 7:
            raise InputError("QEqParams: n must be an integer in 1..7")


def principal_quantum_number(symbol_or_Z) -> int:
    """Valence-shell n from the period: H, He 1; Li-Ne 2; Na-Ar 3; K-Kr 4; ..."""
    Z = atomic_number(symbol_or_Z) if isinstance(symbol_or_Z, str) else int(symbol_or_Z)
    for n, last in enumerate((2, 10, 18, 36, 54, 86, 118), start=1):
        if Z <= last:
            return n
    raise InputError(f"no period for Z = {Z}")


@lru_cache(maxsize=None)
def _table() -> dict:
    rows = {}
    with open(_CSV, newline="") as fh:
        reader = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        for row in reader:
            rows[row["symbol"].strip()] = {k: float(v) for k, v in row.items() if k != "symbol"}
    return rows


def zeta_from_radius(n: int, radius_bohr: float) -> float:
    """Rappé-Goddard orbital exponent zeta = lambda (2n + 1) / (2 R) (1/bohr, R in bohr)."""
    return LAMBDA_RG * (2 * n + 1) / (2.0 * radius_bohr)


def published_params(symbol: str) -> QEqParams:
    """The paper's Table I parameters of ``symbol`` (H, Li, C, N, O, F, Na, Cl)."""
    tab = _table()
    if symbol not in tab:
        raise InputError(f"QEq: no published parameters for {symbol!r} (have {', '.join(tab)})")
    row = tab[symbol]
    n = principal_quantum_number(symbol)
    radius = row["R_angstrom"] / BOHR_ANGSTROM
    return QEqParams(chi=row["chi_eV"] / HARTREE_EV, J=row["J_eV"] / HARTREE_EV,
                     zeta=zeta_from_radius(n, radius), n=n)


def _orbital_density(n: int, zeta: float) -> slater.RadialDensity:
    """|phi_ns|^2 of a normalized ns Slater orbital: c r^(2(n-1)) e^(-2 zeta r), 1 electron."""
    c = (2.0 * zeta) ** (2 * n + 1) / (4.0 * math.pi * math.factorial(2 * n))
    return slater.RadialDensity(np.array([float(n)]), np.array([zeta]), np.array([c]))


@lru_cache(maxsize=None)
def _self_coulomb_unit(n: int) -> float:
    """Self-Coulomb integral of |phi_ns|^2 at zeta = 1 (it scales linearly with zeta)."""
    return float(slater.coulomb(_orbital_density(n, 1.0), _orbital_density(n, 1.0), 0.0))


def params_from_ip_ea(I: float, A: float, *, n: int = 1, zeta: float | None = None,
                      radius_bohr: float | None = None) -> QEqParams:
    """QEq parameters from an ionization energy I and electron affinity A (hartree):

    chi = (I + A)/2 (Mulliken), J = I - A.  The orbital exponent: ``zeta`` if given, else
    from ``radius_bohr`` by the Rappé-Goddard rule, else chosen so that the orbital's own
    Coulomb integral equals J (J_AA(0) = J, the self-consistent choice)."""
    I, A = float(I), float(A)
    if not I > A:
        raise InputError(f"params_from_ip_ea: need I > A (got I = {I}, A = {A} hartree)")
    J = I - A
    if zeta is None:
        zeta = zeta_from_radius(n, radius_bohr) if radius_bohr is not None else J / _self_coulomb_unit(n)
    return QEqParams(chi=0.5 * (I + A), J=J, zeta=float(zeta), n=int(n))


def _resolve(p) -> QEqParams:
    if isinstance(p, QEqParams):
        return p
    if isinstance(p, str):
        return published_params(p)
    raise InputError(f"QEq: expected a symbol or QEqParams, got {type(p).__name__}")


def shielded_coulomb(pa, pb, R, shielding: str = "slater"):
    """J_ab(R) (hartree) between elements/parameter sets ``pa`` and ``pb`` at R (bohr)."""
    pa, pb = _resolve(pa), _resolve(pb)
    R = np.asarray(R, dtype=np.float64)
    if shielding == "slater":
        out = slater.coulomb(_orbital_density(pa.n, pa.zeta), _orbital_density(pb.n, pb.zeta), R)
    elif shielding == "reaxff":
        g = math.sqrt(pa.J * pb.J)
        out = 1.0 / np.cbrt(R ** 3 + g ** -3)
    else:
        raise InputError(f"QEq: unknown shielding {shielding!r} (slater | reaxff)")
    return float(out) if np.ndim(out) == 0 else out


def _params_for(symbols, params):
    out = []
    for s in symbols:
        if params is None:
            out.append(published_params(s))
        elif isinstance(params, dict):
            out.append(_resolve(params[s]) if s in params else published_params(s))
        elif callable(params):
            out.append(_resolve(params(s)))
        else:
            raise InputError("QEq: params must be None, a dict symbol -> QEqParams, or a callable")
    return out


def qeq_matrix(symbols, positions_bohr, params=None, shielding: str = "slater"):
    """(chi, H): chi_i and the hardness matrix H_ii = J_i, H_ij = J_ij(R_ij) (hartree)."""
    pos = np.asarray(positions_bohr, dtype=np.float64).reshape(-1, 3)
    n = len(symbols)
    if pos.shape[0] != n:
        raise InputError(f"QEq: {n} symbols but {pos.shape[0]} positions")
    ps = _params_for(symbols, params)
    chi = np.array([p.chi for p in ps])
    H = np.diag([p.J for p in ps])
    # group pairs by parameter pair to call the Coulomb kernel with arrays
    groups: dict = {}
    for i in range(n):
        for j in range(i + 1, n):
            groups.setdefault((ps[i], ps[j]), []).append((i, j))
    for (pa, pb), ij in groups.items():
        ii = np.array([t[0] for t in ij])
        jj = np.array([t[1] for t in ij])
        R = np.linalg.norm(pos[ii] - pos[jj], axis=1)
        Jij = np.atleast_1d(shielded_coulomb(pa, pb, R, shielding))
        H[ii, jj] = Jij
        H[jj, ii] = Jij
    return chi, H


def qeq_energy(q, chi, H) -> float:
    """E = chi.q + 1/2 q.H.q (hartree)."""
    q = np.asarray(q, dtype=np.float64)
    return float(chi @ q + 0.5 * q @ H @ q)


def qeq_charges(symbols, positions_bohr, Q: float = 0.0, params=None, shielding: str = "slater"):
    """QEq charges and energy: (q, E) with sum q = Q, E in hartree relative to neutral atoms.

    ``symbols``: element symbols; ``positions_bohr``: (N, 3); ``params``: None (published
    Table I), a dict symbol -> QEqParams (missing symbols fall back to Table I) or a callable
    symbol -> QEqParams; ``shielding``: "slater" (Rappé-Goddard) or "reaxff"."""
    chi, H = qeq_matrix(symbols, positions_bohr, params, shielding)
    n = chi.size
    if n == 0:
        return np.zeros(0), 0.0
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = H
    A[:n, n] = 1.0
    A[n, :n] = 1.0
    rhs = np.concatenate([-chi, [float(Q)]])
    try:
        sol = np.linalg.solve(A, rhs)
    except np.linalg.LinAlgError:
        raise InputError("QEq: singular hardness matrix (coincident atoms?)") from None
    q = sol[:n]
    q += (float(Q) - q.sum()) / n  # remove the last rounding of the constraint
    return q, qeq_energy(q, chi, H)


def limiting_charge(A, B) -> float:
    """q_A of a neutral A-B pair at infinite separation: (chi_B - chi_A) / (J_A + J_B)."""
    pa, pb = _resolve(A), _resolve(B)
    return (pb.chi - pa.chi) / (pa.J + pb.J)


def pair_charge(A, B, R, shielding: str = "slater") -> float:
    """Exact two-atom QEq charge q_A at distance R: (chi_B - chi_A)/(J_A + J_B - 2 J_AB(R))."""
    pa, pb = _resolve(A), _resolve(B)
    return (pb.chi - pa.chi) / (pa.J + pb.J - 2.0 * shielded_coulomb(pa, pb, R, shielding))
