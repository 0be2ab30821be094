"""The spherical radial-density model: `RadialDensity` (Slater shells + one tail term), its
validation, serialization and cached kernel arguments (bohr, electrons)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InputError
from .kernels import density_kernel
from .shells import CHECK_R, FACT, FOUR_PI, NEG_TOL, NMAX
from .tail import build_tail_table


# ----------------------------------------------------------------------------------------
# the data class
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RadialDensity:
    """Spherical density model: Slater shells (n, zeta, c) plus an optional tail.

    ``n`` (float64: 1, 1.5, 2, ..., 10, i.e. the power of r, m = 2(n - 1), is an integer),
    ``zeta`` (> 0, 1/bohr) and ``c`` (finite, electrons/bohr^(2n+1), may be negative) are
    equal-length arrays; the tail is present when ``tail_c`` is not None and then needs
    ``tail_c`` >= 0, ``tail_b`` > 0 (bohr), ``tail_kappa`` > 0 (1/bohr) and a finite
    ``tail_beta``.  When any shell coefficient is negative the total density must still be
    non-negative: rho(r) >= -1e-14 max(rho) on 2000 log-spaced radii in [1e-6, 100] bohr and
    the asymptotically leading term positive, else ``InputError``.
    Instances are immutable (arrays are read-only) and hashable.
    """

    n: np.ndarray
    zeta: np.ndarray
    c: np.ndarray
    tail_c: float | None = None
    tail_b: float | None = None
    tail_beta: float | None = None
    tail_kappa: float | None = None

    def __post_init__(self):
        try:
            n = np.atleast_1d(np.asarray(self.n, dtype=np.float64)).copy()
        except (TypeError, ValueError):
            raise InputError("RadialDensity: shell n must be numbers") from None
        zeta = np.atleast_1d(np.asarray(self.zeta, dtype=np.float64)).copy()
        c = np.atleast_1d(np.asarray(self.c, dtype=np.float64)).copy()
        if not (n.ndim == zeta.ndim == c.ndim == 1 and n.size == zeta.size == c.size):
            raise InputError("RadialDensity: n, zeta and c must be 1-D arrays of equal length")
        if np.any(~np.isfinite(n)) or np.any(2.0 * n != np.round(2.0 * n)) \
                or np.any(n < 1) or np.any(n > NMAX):
            raise InputError(f"RadialDensity: shell n must be integers or half-integers in 1..{NMAX}")
        if np.any(~np.isfinite(zeta)) or np.any(zeta <= 0):
            raise InputError("RadialDensity: shell exponents zeta must be finite and > 0")
        if np.any(~np.isfinite(c)):
            raise InputError("RadialDensity: shell coefficients c must be finite")
        tail = (self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa)
        if any(t is not None for t in tail):
            if any(t is None for t in tail):
                raise InputError("RadialDensity: give all four tail parameters (c, b, beta, kappa) or none")
            tc, tb, tbeta, tk = (float(t) for t in tail)
            if not all(math.isfinite(t) for t in (tc, tb, tbeta, tk)):
                raise InputError("RadialDensity: tail parameters must be finite")
            if tc < 0 or tb <= 0 or tk <= 0:
                raise InputError("RadialDensity: tail needs c >= 0, b > 0 and kappa > 0")
            if not math.isfinite(tail_vector(tc, tb, tbeta, tk)[5]):
                raise InputError("RadialDensity: tail prefactor c b^(2 beta - 2) overflows")
            for name, v in zip(("tail_c", "tail_b", "tail_beta", "tail_kappa"), (tc, tb, tbeta, tk)):
                object.__setattr__(self, name, v)
        for arr in (n, zeta, c):
            arr.flags.writeable = False
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "zeta", zeta)
        object.__setattr__(self, "c", c)
        if np.any(c < 0):
            self._check_nonnegative()

    def _check_nonnegative(self):
        """InputError unless the total density (shells with signed c, plus tail) is >= 0."""
        rho, _ = density_kernel(CHECK_R, self.m, self.a, self.c, self.tail_active, self.tail_params, False)
        top = float(np.max(np.abs(rho)))
        worst = int(np.argmin(rho))
        if rho[worst] < -NEG_TOL * top:
            raise InputError(f"RadialDensity: density is negative at r = {CHECK_R[worst]:.4g} bohr "
                             f"(rho = {rho[worst]:.3e}, max {top:.3e}); negative shell coefficients "
                             "must leave the total density >= 0")
        # far out the term with the smallest exponent (then the highest power) dominates
        terms = {}
        for m, a, ci in zip(self.m.tolist(), self.a.tolist(), self.c.tolist()):
            terms[(a, float(m))] = terms.get((a, float(m)), 0.0) + ci
        if self.tail_active:
            key = (2.0 * self.tail_kappa, 2.0 * self.tail_beta)
            terms[key] = terms.get(key, 0.0) + self.tail_c
        live = [(a, -pw, ci) for (a, pw), ci in terms.items() if ci != 0.0]
        if live and min(live)[2] < 0:
            raise InputError("RadialDensity: density is negative at large r (the slowest-decaying "
                             "term has a negative coefficient)")

    # -- serialization ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "RadialDensity":
        """Build from ``{"shells": [{"n", "zeta", "c"}, ...], "tail": {...} | None}``."""
        try:
            shells = d.get("shells") or []
            n = np.array([float(s["n"]) for s in shells])  # 2n integral: checked in __post_init__
            zeta = [float(s["zeta"]) for s in shells]
            c = [float(s["c"]) for s in shells]
            tail = d.get("tail")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"RadialDensity.from_dict: malformed density dict ({exc})") from None
        if tail is None:
            return cls(n, zeta, c)
        try:
            return cls(n, zeta, c, tail_c=tail["c"], tail_b=tail["b"],
                       tail_beta=tail["beta"], tail_kappa=tail["kappa"])
        except (KeyError, TypeError) as exc:
            raise InputError(f"RadialDensity.from_dict: malformed tail ({exc})") from None

    def to_dict(self) -> dict:
        """Plain JSON-able dict (inverse of ``from_dict``)."""
        shells = [{"n": int(n) if float(n).is_integer() else float(n), "zeta": float(z), "c": float(c)}
                  for n, z, c in zip(self.n, self.zeta, self.c)]
        tail = None
        if self.has_tail:
            tail = {"c": self.tail_c, "b": self.tail_b, "beta": self.tail_beta, "kappa": self.tail_kappa}
        return {"shells": shells, "tail": tail}

    def __eq__(self, other):
        if not isinstance(other, RadialDensity):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((tuple(self.n.tolist()), tuple(self.zeta.tolist()), tuple(self.c.tolist()),
                     self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa))

    # -- derived quantities (cached) ----------------------------------------------------
    @property
    def has_tail(self) -> bool:
        """True when a tail term is present (even with c_t = 0)."""
        return self.tail_c is not None

    @cached_property
    def m(self) -> np.ndarray:
        """Power of r in each shell term, m = 2(n - 1) (an integer 0..18)."""
        return np.round(2.0 * (self.n - 1.0)).astype(np.int64)

    @cached_property
    def a(self) -> np.ndarray:
        """Exponent of each shell term, a = 2 zeta (1/bohr)."""
        return 2.0 * self.zeta

    @cached_property
    def tail_active(self) -> bool:
        return self.has_tail and self.tail_c > 0

    @cached_property
    def tail_params(self) -> np.ndarray:
        """Kernel parameter vector of the tail (see ``tail_vector``)."""
        if not self.has_tail:
            return tail_vector(0.0, 1.0, 1.0, 1.0)
        return tail_vector(self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa)

    @cached_property
    def tail_table(self):
        """Panel edges and cumulative integrals of the tail (see ``build_tail_table``)."""
        if not self.tail_active:
            z = np.zeros(2)
            return (np.array([0.0, 1.0]), z, z, z, z)
        return build_tail_table(self.tail_params)

    @cached_property
    def shell_counts(self) -> np.ndarray:
        """Electrons in each shell term: 4 pi c (m+2)! / a^(m+3) (signed with c)."""
        m, a, c = self.m, self.a, self.c
        return np.array([FOUR_PI * ci * FACT[mi + 2] / ai ** (mi + 3) for mi, ai, ci in zip(m, a, c)])

    @cached_property
    def tail_count(self) -> float:
        return float(self.tail_table[1][-1]) if self.tail_active else 0.0

    @cached_property
    def n_electrons(self) -> float:
        """Total electron count N = int 4 pi r^2 rho dr."""
        return float(np.sum(self.shell_counts)) + self.tail_count


def tail_vector(tc, tb, tbeta, tk) -> np.ndarray:
    """Tail parameters as used by the kernels: [c, b, beta, kappa, q, pref, p, graded].

    q = max(1 - beta, 0); near the nucleus (r <= b) the tail is evaluated as
    pref r^p g(r^2/b^2)^q e^{-2 kappa r} with g(y) = (1 - e^{-y})/y, i.e. pref = c b^(2beta-2),
    p = 2 for q > 0 and pref = c, p = 2 beta for q = 0.  graded = 1 when the panels must be
    graded towards r = 0 (q = 0 and 2 beta not an integer: r^(2 beta) branch point).
    """
    tc, tb, tbeta, tk = float(tc), float(tb), float(tbeta), float(tk)
    q = max(1.0 - tbeta, 0.0)
    if q > 0.0:
        with np.errstate(over="ignore"):
            pref, p = tc * tb ** (2.0 * tbeta - 2.0) if tc != 0.0 else 0.0, 2.0
    else:
        pref, p = tc, 2.0 * tbeta
    graded = 1.0 if (q == 0.0 and 2.0 * tbeta != round(2.0 * tbeta)) else 0.0
    return np.array([tc, tb, tbeta, tk, q, pref, p, graded])


def tail_scale(tp) -> float:
    """Inverse length scale of a tail term: 2 kappa, or max(2 kappa, 1/b) when q > 0."""
    return max(2.0 * tp[3], 1.0 / tp[1]) if tp[4] > 0.0 else 2.0 * tp[3]


def as_density(rd):
    """None for a bare nucleus (rd None or no electrons), else the RadialDensity."""
    if rd is None:
        return None
    if not isinstance(rd, RadialDensity):
        raise InputError(f"expected a RadialDensity or None, got {type(rd).__name__}")
    if rd.n_electrons == 0.0:
        return None
    return rd


def as_radii(r, what="r"):
    arr = np.asarray(r, dtype=np.float64)
    flat = np.ascontiguousarray(arr.reshape(-1))
    if not np.all(np.isfinite(flat)) or np.any(flat < 0):
        raise InputError(f"{what} must be finite and >= 0 (bohr)")
    return arr, flat


def shape_out(arr_in, flat_out):
    out = flat_out.reshape(arr_in.shape)
    return float(out) if out.ndim == 0 else out


