"""Tests of the analytic radial-density model (ectem_core.slater).

Reference values come from textbook closed forms (hydrogen 1s) or from brute-force
quadrature written here independently of the module:

* V(r) = (1/r) int_0^r q(s) ds + int_r^inf q(s)/s ds,   q = 4 pi r^2 rho (the rdf);
* J(R) = int int q_a(r) q_b(s) K(r, s, R) dr ds, with K the interaction of two uniformly
  charged unit spherical shells of radii r and s whose centres are R apart (shell theorem:
  K = 1/max(r, R) if s <= |R - r|, 1/s if s >= R + r, else the overlap formula below);
* the short-range part dJ = Na Nb/R - J = int int q_a q_b (1/R - K) (a positive integrand,
  nonzero only where the shells overlap), so it is checked directly at large R;
* phi(s) = N/s - V(s) = int_s^inf q(u) (1/s - 1/u) du.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import integrate

from ectem_core import slater as S
from ectem_core.errors import InputError

QUAD = dict(epsabs=0.0, epsrel=1e-12, limit=200)


# ----------------------------------------------------------------------------------------
# test-side density model and brute-force references (independent of the module)
# ----------------------------------------------------------------------------------------
def norm_c(n, zeta, electrons):
    """Coefficient c of c r^(2n-2) e^(-2 zeta r) holding ``electrons`` electrons."""
    return electrons * (2 * zeta) ** (2 * n + 1) / (4 * math.pi * math.factorial(2 * n))


class Model:
    """A density given by its parameters; ``rd`` is the module object, ``q`` the rdf here."""

    def __init__(self, shells, tail=None):
        self.shells = [(int(n), float(z), float(c)) for n, z, c in shells]
        self.tail = tail
        n, z, c = (zip(*self.shells) if self.shells else ((), (), ()))
        kw = {}
        if tail is not None:
            kw = dict(tail_c=tail[0], tail_b=tail[1], tail_beta=tail[2], tail_kappa=tail[3])
        self.rd = S.RadialDensity(np.array(n, dtype=np.int64), list(z), list(c), **kw)

    def rho(self, r):
        v = sum(c * r ** (2 * (n - 1)) * math.exp(-2 * z * r) for n, z, c in self.shells)
        if self.tail is not None:
            tc, tb, tbeta, tk = self.tail
            v += tc * r * r * (r * r + tb * tb) ** (tbeta - 1) * math.exp(-2 * tk * r)
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


def random_shells(k, nmax=3):
    return [(int(RNG.integers(1, nmax + 1)), float(RNG.uniform(0.4, 5.0)), float(RNG.uniform(0.05, 3.0)))
            for _ in range(k)]


TAIL_A = (0.3, 1.0, 0.4, 0.6)     # c, b, beta, kappa
TAIL_B = (0.05, 0.3, -0.8, 0.9)
H1S = Model([(1, 1.0, 1 / math.pi)])


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
    assert back.n.dtype == np.int64
    with pytest.raises(ValueError):
        m.rd.zeta[0] = 1.0
    with pytest.raises(AttributeError):
        m.rd.tail_c = 1.0
    plain = S.RadialDensity.from_dict({"shells": [{"n": 1, "zeta": 1.0, "c": 0.5, "role": "core"}], "tail": None})
    assert not plain.has_tail and plain.to_dict()["tail"] is None
    with pytest.raises(InputError):
        S.RadialDensity.from_dict({"shells": [{"n": 2.5, "zeta": 1.0, "c": 0.5}], "tail": None})
    with pytest.raises(InputError):
        S.RadialDensity.from_dict({"shells": [], "tail": {"c": 1.0, "b": 1.0}})


@pytest.mark.parametrize("kwargs", [
    dict(n=[0], zeta=[1.0], c=[1.0]),
    dict(n=[1.5], zeta=[1.0], c=[1.0]),
    dict(n=[1], zeta=[-1.0], c=[1.0]),
    dict(n=[1], zeta=[1.0], c=[-1.0]),
    dict(n=[1, 2], zeta=[1.0], c=[1.0]),
    dict(n=[1], zeta=[1.0], c=[1.0], tail_c=1.0),
    dict(n=[1], zeta=[1.0], c=[1.0], tail_c=1.0, tail_b=0.0, tail_beta=0.0, tail_kappa=1.0),
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
    for _ in range(5):
        m = Model(random_shells(4, nmax=4))
        analytic = sum(c * 4 * math.pi * math.factorial(2 * n) / (2 * z) ** (2 * n + 1) for n, z, c in m.shells)
        assert rel(S.electron_count(m.rd), analytic) < 1e-14
        assert rel(S.electron_count(m.rd), m.count_quad()) < 1e-10
        for k in (-1, 1, 2, 0.5):
            ref = integrate.quad(lambda r: m.q(r) * r ** k, 0, np.inf, **QUAD)[0]
            assert rel(S.moment(m.rd, k), ref) < 1e-10


@pytest.mark.parametrize("tail", [TAIL_A, TAIL_B, (1.0, 2.0, 1.0, 0.3), (0.2, 0.5, -0.3, 1.7)])
def test_tail_count_and_moments(tail):
    m = Model([], tail)
    assert rel(S.electron_count(m.rd), m.count_quad()) < 1e-10
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
    for ma, mb in (PAIR_CASES["random-multi"], PAIR_CASES["tail-shells"]):
        J0 = quad_split(lambda r: ma.q(r) * V_quad(mb, r), 0, np.inf, 1.0)
        assert rel(S.coulomb(ma.rd, mb.rd, 0.0), J0) < 1e-10
        for R in (1e-6, 1e-3, 4e-3, 6e-3, 0.03):
            assert rel(S.coulomb(ma.rd, mb.rd, R), J_brute(ma, mb, R)) < 1e-10, R


def test_coulomb_fourier_route():
    """Shell-only J against the momentum-space form J = (2/pi) int rho_a(k) rho_b(k) sin(kR)/(kR) dk,
    with rho(k) = 4 pi c (m+1)! Im[(a + i k)^(m+2)] / (k (a^2 + k^2)^(m+2)) for c r^m e^{-a r}."""
    ma = Model([(4, 1.3, 1.0), (1, 2.0, 1.0)])
    mb = Model([(3, 1.3 + 1e-5, 1.0), (2, 0.7, 0.5)])

    def ft(k, m):
        out = 0.0
        for n, z, c in m.shells:
            p, a = 2 * (n - 1), 2 * z
            out += 4 * math.pi * c * math.factorial(p + 1) * (complex(a, k) ** (p + 2)).imag / (k * (a * a + k * k) ** (p + 2))
        return out

    for R in (0.6, 3.0):
        F = lambda k: ft(k, ma) * ft(k, mb)
        K0 = 40.0
        head = quad_split(lambda k: F(k) * math.sin(k * R) / (k * R), 0, K0, *np.arange(1, 40) * math.pi / R)
        tail = integrate.quad(lambda k: F(k) / (k * R), K0, np.inf, weight="sin", wvar=R)[0]
        assert rel(S.coulomb(ma.rd, mb.rd, R), 2 / math.pi * (head + tail)) < 1e-9


@pytest.mark.parametrize("name", ["random-multi", "dzeta=1e-4", "compact-diffuse", "tail-shells", "tail-tail"])
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

    for ma, mb in (PAIR_CASES["random-multi"], PAIR_CASES["dzeta=1e-6"], PAIR_CASES["tail-tail"]):
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
    assert np.allclose(S._density_numpy(a, r), S.density(a, r), rtol=1e-14, atol=0)
    assert np.allclose(S._potential_numpy(a, r), S.potential(a, r), rtol=1e-13, atol=0)
    assert np.allclose(S._coulomb_numpy(a, b, r), S.coulomb(a, b, r), rtol=1e-13, atol=0)


def test_extreme_distances_are_finite():
    ma, mb = PAIR_CASES["tail-shells"]
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
