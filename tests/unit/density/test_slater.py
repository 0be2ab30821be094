"""Tests of the analytic radial-density model (ectem_core.density).

Reference values come from textbook closed forms (hydrogen 1s) or from brute-force
quadrature written here independently of the module:

* V(r) = (1/r) int_0^r q(s) ds + int_r^inf q(s)/s ds,   q = 4 pi r^2 rho (the rdf);
* J(R) = int int q_a(r) q_b(s) K(r, s, R) dr ds, with K the interaction of two uniformly
  charged unit spherical shells of radii r and s whose centres are R apart (shell theorem:
  K = 1/max(r, R) if s <= |R - r|, 1/s if s >= R + r, else the overlap formula below);
* the short-range part dJ = Na Nb/R - J = int int q_a q_b (1/R - K) (a positive integrand,
  nonzero only where the shells overlap), so it is checked directly at large R;
* phi(s) = N/s - V(s) = int_s^inf q(u) (1/s - 1/u) du.

Shells may have half-integer n (odd powers m = 2(n-1) of r) and signed coefficients; the
tail is c r^(2beta) (1 - e^(-r^2/b^2))^q e^(-2 kappa r), q = max(1 - beta, 0).
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import integrate

from ectem_core.density import reference as REF
from ectem_core.density import slater as S
from ectem_core.errors import InputError

QUAD = dict(epsabs=0.0, epsrel=1e-12, limit=200)


# ----------------------------------------------------------------------------------------
# test-side density model and brute-force references (independent of the module)
# ----------------------------------------------------------------------------------------
def norm_c(n, zeta, electrons):
    """Coefficient c of c r^(2n-2) e^(-2 zeta r) holding ``electrons`` electrons."""
    return electrons * (2 * zeta) ** (2 * n + 1) / (4 * math.pi * math.factorial(round(2 * n)))


def tail_value(tail, r):
    """The tail c r^(2beta) (1 - e^(-r^2/b^2))^q e^(-2 kappa r), q = max(1 - beta, 0), written
    directly (0 at r = 0: it starts like r^2 for beta < 1 and like r^(2beta) otherwise)."""
    tc, tb, tbeta, tk = tail
    if r == 0:
        return 0.0
    q = max(1.0 - tbeta, 0.0)
    return tc * r ** (2 * tbeta) * (-math.expm1(-(r / tb) ** 2)) ** q * math.exp(-2 * tk * r)


class Model:
    """A density given by its parameters; ``rd`` is the module object, ``q`` the rdf here."""

    def __init__(self, shells, tail=None):
        self.shells = [(float(n), float(z), float(c)) for n, z, c in shells]
        self.tail = tail
        n, z, c = (zip(*self.shells) if self.shells else ((), (), ()))
        kw = {}
        if tail is not None:
            kw = dict(tail_c=tail[0], tail_b=tail[1], tail_beta=tail[2], tail_kappa=tail[3])
        self.rd = S.RadialDensity(list(n), list(z), list(c), **kw)

    def rho(self, r):
        v = sum(c * r ** round(2 * (n - 1)) * math.exp(-2 * z * r) for n, z, c in self.shells)
        if self.tail is not None:
            v += tail_value(self.tail, r)
        return v

    def q(self, r):
        return 4 * math.pi * r * r * self.rho(r)

    def count_quad(self):
        return integrate.quad(self.q, 0, np.inf, **QUAD)[0]


def quad_split(f, lo, hi, *points):
    """quad over [lo, hi] split at the given interior points."""
    edges = [lo] + sorted(p for p in points if lo < p < hi) + [hi]
    return sum(integrate.quad(f, a, b, **QUAD)[0] for a, b in zip(edges[:-1], edges[1:]))


def V_quad(m: Model, r):
    inner = quad_split(m.q, 0, r, 1.0) / r if r > 0 else 0.0
    return inner + quad_split(lambda s: m.q(s) / s, r, np.inf, 1.0)


def phi_quad(m: Model, s):
    return quad_split(lambda u: m.q(u) * (1 / s - 1 / u), s, np.inf, s + 1.0)


def shell_kernel(r, s, R):
    """Coulomb energy of two unit spherical shells (radii r, s) with centres R apart."""
    if s <= abs(R - r):
        return 1.0 / max(r, R)
    if s >= R + r:
        return 1.0 / s
    return ((s * s - (R - r) ** 2) / (2 * s) + R + r - s) / (2 * r * R)


def J_brute(ma: Model, mb: Model, R):
    def inner(r):
        f = lambda s: mb.q(s) * shell_kernel(r, s, R)
        return quad_split(f, 0, abs(R - r), 0.5 * abs(R - r)) + quad_split(f, abs(R - r), R + r) \
            + quad_split(f, R + r, np.inf, R + r + 1.0)
    g = lambda r: ma.q(r) * inner(r)
    return quad_split(g, 0, R, 0.5 * R) + quad_split(g, R, np.inf, R + 1.0)


def dJ_brute(ma: Model, mb: Model, R):
    """Na Nb/R - J as the integral of the nonnegative 1/R - K (zero for s < R - r, r < R)."""
    def inner(r):
        f = lambda s: mb.q(s) * (1.0 / R - shell_kernel(r, s, R))
        lo = max(R - r, 0.0)
        return quad_split(f, lo, R + r) + quad_split(f, R + r, np.inf, R + r + 1.0)
    g = lambda r: ma.q(r) * inner(r)
    return quad_split(g, 0, R, 0.5 * R) + quad_split(g, R, np.inf, R + 1.0)


def rel(a, b):
    return abs(a - b) / abs(b)


@pytest.fixture(autouse=True)
def _quiet_quad():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        yield


RNG = np.random.default_rng(20240611)


def random_shells(k, nmax=3, half=False):
    """k shells with random n in 1..nmax (half-integers too when ``half``), zeta and c > 0."""
    ns = np.arange(1, nmax + 0.25, 0.5 if half else 1.0)
    return [(float(RNG.choice(ns)), float(RNG.uniform(0.4, 5.0)), float(RNG.uniform(0.05, 3.0)))
            for _ in range(k)]


TAIL_A = (0.3, 1.0, 0.4, 0.6)     # c, b, beta, kappa  (q = 0.6)
TAIL_B = (0.05, 0.3, -0.8, 0.9)   # q = 1.8
TAIL_C = (0.1, 1.0, 1.7, 0.8)     # q = 0, r^3.4 branch point at the nucleus
H1S = Model([(1, 1.0, 1 / math.pi)])
# exact H n = 2 ensemble density e^{-r} (4 - 4r + 2r^2)/(128 pi): signed r^0, r^1, r^2 terms
K128 = 1 / (128 * math.pi)
HN2 = Model([(1, 0.5, 4 * K128), (1.5, 0.5, -4 * K128), (2, 0.5, 2 * K128)])
# odd powers with signed coefficients (validated non-negative by the constructor)
SIGNED = Model([(1, 2.0, 3.0), (1.5, 1.2, -0.5), (2, 0.8, 0.4), (2.5, 0.6, 0.01)])


# ----------------------------------------------------------------------------------------
# the data class
# ----------------------------------------------------------------------------------------
def test_dict_roundtrip_immutable_hashable():
    m = Model([(1, 2.5, 3.0), (2, 0.9, 0.2)], TAIL_A)
    d = m.rd.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["tail"] == {"c": 0.3, "b": 1.0, "beta": 0.4, "kappa": 0.6}
    back = S.RadialDensity.from_dict(d)
    assert back == m.rd and hash(back) == hash(m.rd)
    assert back.n.dtype == np.float64 and back.m.tolist() == [0, 2]
    with pytest.raises(ValueError):
        m.rd.zeta[0] = 1.0
    with pytest.raises(AttributeError):
        m.rd.tail_c = 1.0
    plain = S.RadialDensity.from_dict({"shells": [{"n": 1, "zeta": 1.0, "c": 0.5, "role": "core"}], "tail": None})
    assert not plain.has_tail and plain.to_dict()["tail"] is None
    with pytest.raises(InputError):
        S.RadialDensity.from_dict({"shells": [{"n": 2.25, "zeta": 1.0, "c": 0.5}], "tail": None})
    with pytest.raises(InputError):
        S.RadialDensity.from_dict({"shells": [], "tail": {"c": 1.0, "b": 1.0}})


@pytest.mark.parametrize("kwargs", [
    dict(n=[0], zeta=[1.0], c=[1.0]),
    dict(n=[0.5], zeta=[1.0], c=[1.0]),
    dict(n=[1.25], zeta=[1.0], c=[1.0]),
    dict(n=[10.5], zeta=[1.0], c=[1.0]),
    dict(n=[math.nan], zeta=[1.0], c=[1.0]),
    dict(n=[1], zeta=[-1.0], c=[1.0]),
    dict(n=[1], zeta=[1.0], c=[-1.0]),                       # negative everywhere
    dict(n=[1, 2], zeta=[1.0, 1.0], c=[1.0, -1.0]),          # e^{-2r}(1 - r^2) < 0 beyond r = 1
    dict(n=[1, 1.5], zeta=[1.0, 1.0], c=[1.0, -2.0 - 1e-9]),  # slope too negative: < 0 at r > 1/2
    dict(n=[1], zeta=[1.0], c=[math.inf]),
    dict(n=[1, 2], zeta=[1.0], c=[1.0]),
    dict(n=[1], zeta=[1.0], c=[1.0], tail_c=1.0),
    dict(n=[1], zeta=[1.0], c=[1.0], tail_c=1.0, tail_b=0.0, tail_beta=0.0, tail_kappa=1.0),
    dict(n=[1], zeta=[1.0], c=[1.0], tail_c=-1e-3, tail_b=1.0, tail_beta=0.0, tail_kappa=1.0),
])
def test_invalid_parameters(kwargs):
    with pytest.raises(InputError):
        S.RadialDensity(**kwargs)


def test_scalar_and_array_shapes():
    rd = H1S.rd
    assert isinstance(S.density(rd, 1.0), float)
    assert isinstance(S.coulomb(rd, rd, 2.0), float)
    grid = np.linspace(0.1, 3, 6).reshape(2, 3)
    for f in (S.density, S.density_derivative, S.rdf, S.potential, S.potential_derivative):
        assert f(rd, grid).shape == (2, 3)
    assert S.coulomb(rd, rd, grid).shape == (2, 3)
    with pytest.raises(InputError):
        S.potential(rd, -1.0)


# ----------------------------------------------------------------------------------------
# one density
# ----------------------------------------------------------------------------------------
def test_normalization_random_shells():
    for half in (False, True, True):
        m = Model(random_shells(4, nmax=4, half=half))
        analytic = sum(c * 4 * math.pi * math.factorial(round(2 * n)) / (2 * z) ** (2 * n + 1)
                       for n, z, c in m.shells)
        assert rel(S.electron_count(m.rd), analytic) < 1e-14
        assert rel(S.electron_count(m.rd), m.count_quad()) < 1e-10
        for k in (-1, 1, 2, 0.5):
            ref = integrate.quad(lambda r: m.q(r) * r ** k, 0, np.inf, **QUAD)[0]
            assert rel(S.moment(m.rd, k), ref) < 1e-10


@pytest.mark.parametrize("tail", [TAIL_A, TAIL_B, TAIL_C, (1.0, 2.0, 1.0, 0.3), (0.2, 0.5, -0.3, 1.7),
                                  (0.02, 2.0, -1.0, 0.4), (0.5, 6.0, 0.2, 0.5), (0.3, 0.2, 2.5, 1.0)])
def test_tail_count_and_moments(tail):
    m = Model([], tail)
    assert rel(S.electron_count(m.rd), m.count_quad()) < 1e-10
    tc, tb, tbeta, tk = tail
    if tbeta >= 1:  # q = 0: a Slater-like term with real power, N = 4 pi c Gamma(2beta+3)/(2kappa)^(2beta+3)
        exact = 4 * math.pi * tc * math.gamma(2 * tbeta + 3) / (2 * tk) ** (2 * tbeta + 3)
        assert rel(S.electron_count(m.rd), exact) < 1e-13
    for k in (-1, 1, 2):
        ref = integrate.quad(lambda r: m.q(r) * r ** k, 0, np.inf, **QUAD)[0]
        assert rel(S.moment(m.rd, k), ref) < 1e-10
    mixed = Model([(1, 2.0, 1.0)], tail)
    assert rel(S.electron_count(mixed.rd), mixed.count_quad()) < 1e-10


def test_density_and_derivative():
    m = Model([(1, 1.7, 2.0), (2, 0.8, 0.3), (3, 0.5, 0.05)], TAIL_A)
    r = np.array([0.0, 0.05, 0.7, 2.0, 6.0])
    assert np.allclose(S.density(m.rd, r), [m.rho(x) for x in r], rtol=1e-14, atol=0)
    assert np.allclose(S.rdf(m.rd, r), [m.q(x) for x in r], rtol=1e-14, atol=0)
    h = 1e-5
    for x in r[1:]:
        fd = (m.rho(x + h) - m.rho(x - h)) / (2 * h)
        assert rel(S.density_derivative(m.rd, x), fd) < 1e-8
    assert S.rho0(m.rd) == pytest.approx(2.0, rel=1e-15)
    # the tail and n >= 2 terms vanish at r = 0 with zero slope: only the 1s term counts
    assert S.density_derivative(m.rd, 0.0) == pytest.approx(-2 * 1.7 * 2.0, rel=1e-15)


TAILS = [TAIL_A, TAIL_B, TAIL_C, (1.0, 2.0, 1.0, 0.3), (0.02, 2.0, -1.0, 0.4), (0.3, 0.2, 2.5, 1.0)]


@pytest.mark.parametrize("tail", TAILS)
def test_tail_matches_fit_module(tail):
    """Same tail as ectem_core.density.fit: density vs fit.evaluate, electron count vs fit.tail_norm."""
    from ectem_core.density import fit

    tc, tb, tbeta, tk = tail
    tdict = {"c": tc, "b": tb, "beta": tbeta, "kappa": tk}
    shells = [{"n": 1, "zeta": 2.0, "c": 3.0}, {"n": 1.5, "zeta": 2.5, "c": -0.4, "role": "x"}]
    rd = S.RadialDensity.from_dict({"shells": shells, "tail": tdict})
    tail_only = S.RadialDensity.from_dict({"shells": [], "tail": tdict})
    assert rel(S.electron_count(tail_only), tc * fit.tail_norm(tb, tbeta, tk)) < 1e-12
    r = np.concatenate([[0.0], np.geomspace(1e-9, 150.0, 3000)])
    mine, ref = S.density(rd, r), fit.evaluate(shells, tdict, r)
    assert mine[0] == ref[0] == 3.0
    # both evaluate the full formula everywhere (including r -> 0, where it ~ c r^2 b^(2beta-2))
    pos = r > 0
    assert np.max(np.abs(mine[pos] / ref[pos] - 1)) < 1e-13


@pytest.mark.parametrize("tail", TAILS)
def test_tail_derivative_and_branch_switches(tail):
    """dT/dr against finite differences, and continuity where the evaluation changes form
    (y = r^2/b^2 = 0.1 and 1)."""
    m = Model([], tail)
    tb = tail[1]
    pts = [0.01, 0.3, 0.9, 1.7, 4.0, 12.0, tb * math.sqrt(0.1), tb]
    for x in pts:
        h = 1e-5 * max(x, 0.05)
        fd = (-m.rho(x + 2 * h) + 8 * m.rho(x + h) - 8 * m.rho(x - h) + m.rho(x - 2 * h)) / (12 * h)
        assert rel(S.density_derivative(m.rd, x), fd) < 1e-8, x
        assert rel(S.density(m.rd, x), m.rho(x)) < 1e-14, x
    for x in (tb * math.sqrt(0.1), tb):
        for f in (S.density, S.density_derivative):
            lo, hi, hi2 = (f(m.rd, x * (1 + e)) for e in (-1e-15, 1e-15, 3e-15))
            assert abs(lo - hi) <= 3e-14 * abs(hi) + 2 * abs(hi2 - hi)  # no jump beyond the local slope
    # no value and no slope at the nucleus
    assert S.density(m.rd, 0.0) == 0.0 and S.density_derivative(m.rd, 0.0) == 0.0


def test_odd_powers_density_slope_and_cusp():
    """r^1 terms (n = 1.5) add their coefficient to rho'(0); cusp_ratio includes them."""
    m = SIGNED
    assert S.density(m.rd, 0.0) == pytest.approx(3.0, rel=1e-15)
    assert S.density_derivative(m.rd, 0.0) == pytest.approx(-2 * 2.0 * 3.0 - 0.5, rel=1e-15)
    assert S.cusp_ratio(m.rd, 2.0) == pytest.approx((12.0 + 0.5) / (4.0 * 3.0), rel=1e-15)
    r = np.array([1e-3, 0.2, 0.8, 2.5, 9.0])
    assert np.allclose(S.density(m.rd, r), [m.rho(x) for x in r], rtol=1e-14, atol=0)
    for x in r:
        h = 1e-6
        fd = (m.rho(x + h) - m.rho(x - h)) / (2 * h)
        assert rel(S.density_derivative(m.rd, x), fd) < 1e-7
    # no r^0 term: no rho(0), cusp ratio undefined
    assert math.isnan(S.cusp_ratio(S.RadialDensity([1.5], [1.0], [1.0]), 1.0))


def test_negative_coefficients_validation():
    # valid: signed terms with a non-negative total (H n = 2, SIGNED, a term cancelled exactly)
    assert S.electron_count(HN2.rd) == pytest.approx(1.0, rel=1e-14)
    zero = S.RadialDensity([1, 1], [1.0, 1.0], [0.5, -0.5])
    assert S.electron_count(zero) == 0.0 and S.coulomb(zero, H1S.rd, 1.0) == 0.0
    # negative only beyond the check grid (r > ~6900 bohr): caught by the asymptotic test
    with pytest.raises(InputError, match="large r"):
        S.RadialDensity([1, 1], [0.1, 0.099], [1.0, -1e-6])
    # ... unless the tail decays more slowly still
    S.RadialDensity([1, 1], [0.1, 0.099], [1.0, -1e-6], tail_c=1e-3, tail_b=1.0, tail_beta=0.5,
                    tail_kappa=0.09)
    with pytest.raises(InputError, match="negative at r"):
        S.RadialDensity.from_dict({"shells": [{"n": 1, "zeta": 1.0, "c": 1.0},
                                              {"n": 2.5, "zeta": 0.6, "c": -0.2}], "tail": None})


def test_hydrogen_n2_ensemble():
    """Exact H n = 2 ensemble density: N = 1, cusp ratio 1 for Z = 1, V and J against
    independent quadrature, U(H n=2, H n=2) -> 0 at large R."""
    from ectem_core.density import fit

    rd = S.RadialDensity.from_dict({"shells": fit.hydrogen_n2_exact().shells, "tail": None})
    assert rd == HN2.rd
    assert rd.to_dict()["shells"][1]["n"] == 1.5 and isinstance(rd.to_dict()["shells"][0]["n"], int)
    assert S.electron_count(rd) == pytest.approx(1.0, rel=1e-14)
    assert rel(HN2.count_quad(), 1.0) < 1e-11
    assert S.cusp_ratio(rd, 1.0) == pytest.approx(1.0, rel=1e-15)
    assert S.rho0(rd) == pytest.approx(4 * K128, rel=1e-15)
    r = np.array([0.0, 0.3, 1.0, 2.0, 5.0, 20.0])
    closed = np.exp(-r) * (4 - 4 * r + 2 * r * r) * K128
    assert np.allclose(S.density(rd, r), closed, rtol=1e-14, atol=0)
    # hydrogen <r> = (3n^2 - l(l+1))/2: 6 (2s), 5 (2p); <r^2> = n^2 (5n^2 + 1 - 3l(l+1))/2: 42, 30
    assert S.moment(rd, 1) == pytest.approx((6 + 3 * 5) / 4, rel=1e-14)
    assert S.moment(rd, 2) == pytest.approx(33.0, rel=1e-14)
    for x in (0.0, 1e-6, 0.1, 1.0, 2.0, 4.0, 10.0, 40.0):
        assert rel(S.potential(rd, x), V_quad(HN2, x)) < 1e-9, x
    for R in (0.0, 0.5, 2.0, 6.0, 15.0):
        ref = quad_split(lambda t: HN2.q(t) * V_quad(HN2, t), 0, np.inf, 2.0, 8.0) if R == 0 \
            else J_brute(HN2, HN2, R)
        assert rel(S.coulomb(rd, rd, R), ref) < 1e-9, R
    for R in (1.0, 5.0):
        assert rel(S.coulomb(rd, H1S.rd, R), J_brute(HN2, H1S, R)) < 1e-9, R
    # neutral-neutral: U -> 0; the exponentially small remainder with full relative accuracy
    for R in (8.0, 20.0):
        ref = phi_quad(HN2, R) * 2 - dJ_brute(HN2, HN2, R)
        assert rel(S.state_coulomb(1, rd, 1, rd, R), ref) < 1e-8, R
    R = np.array([40.0, 60.0, 100.0, 200.0])
    U = S.state_coulomb(1, rd, 1, rd, R)
    assert np.all(np.abs(U) < 1e3 * R ** 4 * np.exp(-R)) and abs(U[-1]) < 1e-70
    assert np.all(np.abs(S.state_coulomb_derivative(1, rd, 1, rd, R)) < 1e3 * R ** 4 * np.exp(-R))


def test_hydrogen_1s_textbook():
    rd = H1S.rd
    assert S.electron_count(rd) == pytest.approx(1.0, rel=1e-15)
    assert S.cusp_ratio(rd, 1.0) == pytest.approx(1.0, rel=1e-15)
    assert S.rho0(rd) == pytest.approx(1 / math.pi, rel=1e-15)
    # V(r) = 1/r - (1 + 1/r) e^{-2r}, V(0) = 1
    assert S.potential(rd, 0.0) == pytest.approx(1.0, rel=1e-15)
    for r in (0.1, 0.5, 1.0, 3.0, 10.0, 30.0):
        assert rel(S.potential(rd, r), 1 / r - (1 + 1 / r) * math.exp(-2 * r)) < 1e-13
    # J(R) = 1/R - e^{-2R} (1/R + 11/8 + 3R/4 + R^2/6), J(0) = 5/8
    assert S.coulomb(rd, rd, 0.0) == pytest.approx(5 / 8, rel=1e-15)
    for R in (0.5, 1.0, 1.4, 2.0, 5.0, 12.0):
        ref = 1 / R - math.exp(-2 * R) * (1 / R + 11 / 8 + 3 * R / 4 + R * R / 6)
        assert rel(S.coulomb(rd, rd, R), ref) < 1e-13
    # U = 1/R - 2 V(R) + J(R) = e^{-2R} (5/8 + 1/R - 3R/4 - R^2/6) -> 0
    for R in (1.0, 4.0, 10.0, 20.0, 40.0):
        ref = math.exp(-2 * R) * (5 / 8 + 1 / R - 3 * R / 4 - R * R / 6)
        assert rel(S.state_coulomb(1, rd, 1, rd, R), ref) < 1e-12
    assert abs(S.state_coulomb(1, rd, 1, rd, 20.0)) < 1e-15


def test_hydrogenic_scaling_and_cusp():
    for Z in (1.0, 2.0, 7.0):
        rd = S.RadialDensity([1], [Z], [Z ** 3 / math.pi])
        assert S.cusp_ratio(rd, Z) == pytest.approx(1.0, rel=1e-15)
        # V scales as Z V_H(Z r); J(0) = 5 Z / 8
        assert rel(S.potential(rd, 0.7 / Z), Z * S.potential(H1S.rd, 0.7)) < 1e-14
        assert rel(S.coulomb(rd, rd, 0.0), 5 * Z / 8) < 1e-14


@pytest.mark.parametrize("model", [
    Model([(1, 1.3, 2.0), (2, 0.7, 0.4), (3, 0.45, 0.02)]),
    Model([(3, 2.2, 1.0), (2, 2.2 + 1e-6, 0.5), (1, 2.2 + 1e-4, 0.3)]),
    Model([(2, 0.9, 0.2)], TAIL_A),
    Model([], TAIL_B),
    Model([], TAIL_C),
    Model([(1.5, 1.3, 2.0), (2.5, 0.7, 0.4), (3.5, 0.45, 0.02), (10, 3.0, 1.0), (9.5, 3.0, 1.0)]),
    Model([(1.5, 2.2, 1.0), (2, 2.2 + 1e-6, 0.5), (1, 2.2 + 1e-4, 0.3)]),
    SIGNED,
    Model(SIGNED.shells, TAIL_C),
])
def test_potential_vs_quadrature(model):
    N = model.count_quad()
    for r in (0.0, 1e-7, 0.02, 0.3, 1.0, 2.5, 7.0, 25.0):
        assert rel(S.potential(model.rd, r), V_quad(model, r)) < 1e-10
    assert rel(S.potential(model.rd, 400.0), N / 400.0) < 1e-12


# ----------------------------------------------------------------------------------------
# two densities
# ----------------------------------------------------------------------------------------
PAIR_CASES = {
    "random-multi": (Model(random_shells(3)), Model(random_shells(3))),
    "dzeta=1e-6": (Model([(1, 1.2, 1.0), (2, 0.8, 0.2)]), Model([(2, 1.2 + 1e-6, 0.7), (3, 0.8 + 1e-6, 0.1)])),
    "dzeta=1e-4": (Model([(3, 1.5, 1.0)]), Model([(3, 1.5 + 1e-4, 1.0), (1, 0.6, 0.2)])),
    "dzeta=1e-2": (Model([(2, 0.9, 1.0), (1, 3.0, 5.0)]), Model([(1, 0.9 + 1e-2, 0.4), (3, 3.0 + 1e-2, 2.0)])),
    "equal": (Model([(1, 1.1, 1.0), (3, 0.7, 0.1)]), Model([(1, 1.1, 0.5), (2, 0.7, 0.2)])),
    "compact-diffuse": (Model([(1, 12.0, 600.0), (2, 0.35, 0.002)]), Model([(1, 0.4, 0.05)])),
    "tail-shells": (Model([(1, 2.0, 5.0), (2, 0.8, 0.3)], TAIL_A), Model([(1, 1.5, 2.0), (3, 0.9, 0.1)])),
    "tail-tail": (Model([(1, 2.0, 5.0)], TAIL_A), Model([(3, 0.9, 0.1)], TAIL_B)),
    "odd-random": (Model(random_shells(3, half=True)), Model(random_shells(3, half=True))),
    "odd-dzeta=1e-6": (Model([(1.5, 1.2, 1.0), (2.5, 0.8, 0.2)]),
                       Model([(1.5, 1.2 + 1e-6, 0.7), (2, 0.8 + 1e-6, 0.1), (3.5, 0.8, 0.05)])),
    "odd-equal": (Model([(1.5, 1.1, 1.0), (1, 1.1, 0.4)]), Model([(2.5, 1.1, 0.5), (1.5, 1.1, 0.2)])),
    "signed": (SIGNED, Model([(1, 1.4, 2.0), (1.5, 1.4, -1.0), (2, 1.4 + 1e-7, 0.6), (3, 0.5, 0.002)])),
    "signed-tail": (Model(SIGNED.shells, TAIL_C), Model([(1, 1.0, 1.0), (1.5, 1.2, -0.3)], TAIL_B)),
    "graded-tail-tail": (Model([(1.5, 1.5, 1.0)], TAIL_C), Model([], TAIL_C)),
    "high-odd": (Model([(9.5, 3.0, 1.0), (10, 2.0, 1e-3), (1, 5.0, 10.0)]),
                 Model([(9.5, 3.0 + 1e-6, 1.0), (8.5, 1.5, 1e-3)])),
}


@pytest.mark.parametrize("name", list(PAIR_CASES))
def test_coulomb_vs_brute_force(name):
    ma, mb = PAIR_CASES[name]
    for R in (0.15, 1.3, 4.0):
        J = S.coulomb(ma.rd, mb.rd, R)
        assert rel(J, J_brute(ma, mb, R)) < 1e-9, R
        assert rel(S.coulomb(mb.rd, ma.rd, R), J) < 1e-12


def test_coulomb_at_and_near_zero_distance():
    """R = 0, the small-R Taylor zone and its switch-over, against brute force."""
    for ma, mb in (PAIR_CASES["random-multi"], PAIR_CASES["tail-shells"], PAIR_CASES["signed"],
                   PAIR_CASES["graded-tail-tail"]):
        J0 = quad_split(lambda r: ma.q(r) * V_quad(mb, r), 0, np.inf, 1.0)
        assert rel(S.coulomb(ma.rd, mb.rd, 0.0), J0) < 1e-10
        for R in (1e-6, 1e-3, 4e-3, 6e-3, 0.03):
            assert rel(S.coulomb(ma.rd, mb.rd, R), J_brute(ma, mb, R)) < 1e-10, R


def test_coulomb_fourier_route():
    """Shell-only J against the momentum-space form J = (2/pi) int rho_a(k) rho_b(k) sin(kR)/(kR) dk,
    with rho(k) = 4 pi c (m+1)! Im[(a + i k)^(m+2)] / (k (a^2 + k^2)^(m+2)) for c r^m e^{-a r}."""
    ma = Model([(4, 1.3, 1.0), (1, 2.0, 1.0), (3.5, 1.3, 0.3), (1.5, 2.0, -0.5)])
    mb = Model([(3, 1.3 + 1e-5, 1.0), (2, 0.7, 0.5), (2.5, 1.3, 0.2)])

    def ft(k, m):
        out = 0.0
        for n, z, c in m.shells:
            p, a = round(2 * (n - 1)), 2 * z
            out += 4 * math.pi * c * math.factorial(p + 1) * (complex(a, k) ** (p + 2)).imag / (k * (a * a + k * k) ** (p + 2))
        return out

    for R in (0.6, 3.0):
        F = lambda k: ft(k, ma) * ft(k, mb)
        K0 = 40.0
        head = quad_split(lambda k: F(k) * math.sin(k * R) / (k * R), 0, K0, *np.arange(1, 40) * math.pi / R)
        tail = integrate.quad(lambda k: F(k) / (k * R), K0, np.inf, weight="sin", wvar=R)[0]
        assert rel(S.coulomb(ma.rd, mb.rd, R), 2 / math.pi * (head + tail)) < 1e-9


@pytest.mark.parametrize("name", ["random-multi", "dzeta=1e-4", "compact-diffuse", "tail-shells", "tail-tail",
                                  "odd-dzeta=1e-6", "odd-equal", "signed", "signed-tail", "graded-tail-tail"])
def test_short_range_part_at_large_R(name):
    """Neutral states (Z = N): U = Za phi_b + Zb phi_a - dJ is exponentially small and must
    come out with full relative accuracy (no cancellation of 1/R terms)."""
    ma, mb = PAIR_CASES[name]
    Na, Nb = S.electron_count(ma.rd), S.electron_count(mb.rd)
    for R in (6.0, 15.0):
        ref = Na * phi_quad(mb, R) + Nb * phi_quad(ma, R) - dJ_brute(ma, mb, R)
        assert rel(S.state_coulomb(Na, ma.rd, Nb, mb.rd, R), ref) < 1e-8, R


def test_large_R_limits():
    ma, mb = PAIR_CASES["random-multi"]
    Na, Nb = S.electron_count(ma.rd), S.electron_count(mb.rd)
    for R in (40.0, 80.0):
        assert abs(S.coulomb(ma.rd, mb.rd, R) - Na * Nb / R) <= 1e-14 * Na * Nb / R
    # Li+ (2 electrons, Z = 3) and F- (10 electrons, Z = 9): U -> (+1)(-1)/R
    li = S.RadialDensity([1], [2.69], [norm_c(1, 2.69, 2)])
    f = S.RadialDensity([1, 2, 2], [8.65, 2.55, 2.2], [norm_c(1, 8.65, 2), norm_c(2, 2.55, 2), norm_c(2, 2.2, 6)])
    assert S.electron_count(li) == pytest.approx(2.0, rel=1e-14)
    assert S.electron_count(f) == pytest.approx(10.0, rel=1e-14)
    for R in (30.0, 60.0):
        assert abs(S.state_coulomb(3, li, 9, f, R) * R + 1.0) < 1e-12
    # the penetration part decays like the most diffuse term, e^{-2 zeta_min R} times a polynomial
    R = np.array([5.0, 10.0, 20.0])
    dev = np.abs(S.state_coulomb(3, li, 9, f, R) * R + 1)
    assert np.all(dev < 1e3 * R ** 4 * np.exp(-2 * 2.2 * R) + 1e-15)


def test_derivatives_vs_finite_differences():
    def fd(f, x, h):
        return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)

    for ma, mb in (PAIR_CASES["random-multi"], PAIR_CASES["dzeta=1e-6"], PAIR_CASES["tail-tail"],
                   PAIR_CASES["odd-dzeta=1e-6"], PAIR_CASES["signed-tail"]):
        a, b = ma.rd, mb.rd
        for x in (0.3, 1.2, 3.5, 9.0):
            h = 1e-3
            assert rel(S.potential_derivative(a, x), fd(lambda t: S.potential(a, t), x, h)) < 1e-8
            assert rel(S.coulomb_derivative(a, b, x), fd(lambda t: S.coulomb(a, b, t), x, h)) < 1e-7
            dU = S.state_coulomb_derivative(3.0, a, 2.0, b, x)
            assert rel(dU, fd(lambda t: S.state_coulomb(3.0, a, 2.0, b, t), x, h)) < 1e-7
    rd = H1S.rd
    assert S.potential_derivative(rd, 0.0) == 0.0 and S.coulomb_derivative(rd, rd, 0.0) == 0.0


def test_bare_nucleus():
    mb = PAIR_CASES["tail-shells"][1]
    empty = S.RadialDensity([1], [1.0], [0.0])
    R = np.array([0.5, 2.0, 9.0])
    ref = 1.0 * (3.0 / R - S.potential(mb.rd, R))
    for bare in (None, empty):
        assert np.allclose(S.state_coulomb(1.0, bare, 3.0, mb.rd, R), ref, rtol=1e-13, atol=0)
        assert np.all(S.coulomb(bare, mb.rd, R) == 0.0)
        assert np.all(S.potential(bare, R) == 0.0) and S.electron_count(bare) == 0.0
    assert np.allclose(S.state_coulomb(1.0, None, 2.0, None, R), 2.0 / R, rtol=1e-15)
    assert np.allclose(S.nuclear_attraction(mb.rd, R), S.potential(mb.rd, R), rtol=0, atol=0)


def test_numpy_references_match_kernels():
    a = Model([(1, 7.5, 120.0), (2, 2.1, 3.0), (3, 0.6, 0.01)]).rd
    b = Model([(1, 6.1, 60.0), (2, 1.8 + 1e-7, 2.0), (3, 0.6, 0.005)]).rd
    r = np.linspace(0.05, 25.0, 200)
    assert np.allclose(REF.density_numpy(a, r), S.density(a, r), rtol=1e-14, atol=0)
    assert np.allclose(REF.potential_numpy(a, r), S.potential(a, r), rtol=1e-13, atol=0)
    assert np.allclose(REF.coulomb_numpy(a, b, r), S.coulomb(a, b, r), rtol=1e-13, atol=0)
    a, b = PAIR_CASES["signed"][0].rd, PAIR_CASES["odd-dzeta=1e-6"][1].rd
    assert np.allclose(REF.density_numpy(a, r), S.density(a, r), rtol=1e-14, atol=0)
    assert np.allclose(REF.potential_numpy(a, r), S.potential(a, r), rtol=1e-13, atol=0)
    assert np.allclose(REF.coulomb_numpy(a, b, r), S.coulomb(a, b, r), rtol=1e-13, atol=0)
    t = Model([(1, 2.0, 1.0)], TAIL_B).rd
    assert np.allclose(REF.density_numpy(t, r), S.density(t, r), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["tail-shells", "signed-tail", "high-odd"])
def test_extreme_distances_are_finite(name):
    ma, mb = PAIR_CASES[name]
    R = np.array([1e-300, 1e-12, 1e-6, 1e3, 1e6, 1e20])
    Na, Nb = S.electron_count(ma.rd), S.electron_count(mb.rd)
    for f in (S.potential, S.potential_derivative):
        assert np.all(np.isfinite(f(ma.rd, R)))
    J = S.coulomb(ma.rd, mb.rd, R)
    assert np.all(np.isfinite(J)) and np.all(np.isfinite(S.coulomb_derivative(ma.rd, mb.rd, R)))
    assert J[0] == pytest.approx(S.coulomb(ma.rd, mb.rd, 0.0), rel=1e-14)
    assert np.allclose(J[3:], Na * Nb / R[3:], rtol=1e-15, atol=0)
    U = S.state_coulomb(2.0, ma.rd, 3.0, mb.rd, R)
    assert np.all(np.isfinite(U)) and U[0] == pytest.approx(6e300, rel=1e-12)
    assert np.allclose(U[3:], (2.0 - Na) * (3.0 - Nb) / R[3:], rtol=1e-14, atol=0)
    with pytest.raises(InputError):
        S.coulomb(ma.rd, mb.rd, np.inf)
