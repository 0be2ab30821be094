"""Tabulated pair functions (ectem_core.potential.pair_tables): overlap S, state Coulomb U, rho(R).

The state densities below are stage-2 fit records (shells + tail) of H, Li and F states,
copied so the tests do not depend on a pipeline run."""
from __future__ import annotations

import json
import math
import time

import numba
import numpy as np
import pytest
from scipy import integrate

from ectem_core.density import slater
from ectem_core.potential import pair_tables as pt

STATES = json.loads(r'''{
  "H-1": {"state_id": "H-1", "Z": 1, "charge": -1, "n_electrons": 2, "shells": [{"n": 1, "zeta": 0.742487126684274, "c": 0.14470001839031024}, {"n": 1, "zeta": 1.2014360388602296, "c": 0.18498237810555002}], "tail": {"c": 0.0713341621080099, "b": 2.6118002913314675, "beta": -1.0, "kappa": 0.2304871266842735}},
  "H+1": {"state_id": "H+1", "Z": 1, "charge": 1, "n_electrons": 0, "shells": [], "tail": null},
  "Li+1": {"state_id": "Li+1", "Z": 3, "charge": 1, "n_electrons": 2, "shells": [{"n": 1, "zeta": 2.6649602529361434, "c": 10.621731219299978}, {"n": 1, "zeta": 4.21170098211983, "c": 2.9369474759925525}], "tail": {"c": 4.9476183761851695, "b": 1.9937205337164672, "beta": -0.14710707889565577, "kappa": 2.3449602529358042}},
  "Li-1": {"state_id": "Li-1", "Z": 3, "charge": -1, "n_electrons": 4, "shells": [{"n": 1, "zeta": 2.636465174120162, "c": 10.924238053231843}, {"n": 1, "zeta": 4.462756584399995, "c": 2.714970502204599}, {"n": 2, "zeta": 0.724466312335014, "c": 0.013501199174660274}], "tail": {"c": 0.28606417783257554, "b": 4.2570947746306205, "beta": -1.0, "kappa": 0.2124663123350138}},
  "Li0": {"state_id": "Li0", "Z": 3, "charge": 0, "n_electrons": 3, "shells": [{"n": 1, "zeta": 2.6287153793418416, "c": 10.773567127782723}, {"n": 1, "zeta": 4.388529593145863, "c": 2.880788284181577}], "tail": {"c": 0.045008269379031435, "b": 5.157305232618498, "beta": 0.5958690973816243, "kappa": 0.6266178107218949}},
  "F+1": {"state_id": "F+1", "Z": 9, "charge": 1, "n_electrons": 8, "shells": [{"n": 1, "zeta": 8.928025711897853, "c": 451.24574673677853}, {"n": 1, "zeta": 31.12110328362992, "c": 1.4681949161430834}, {"n": 2, "zeta": 3.0926633529263383, "c": 103.26170141220541}, {"n": 2, "zeta": 2.108624371899441, "c": 11.092815190047629}], "tail": {"c": 0.24070824855303227, "b": 2.0550334004668014, "beta": 0.25264278511587546, "kappa": 1.5966243718994402}},
  "F-1": {"state_id": "F-1", "Z": 9, "charge": -1, "n_electrons": 10, "shells": [{"n": 1, "zeta": 8.830458228815859, "c": 440.2783476338439}, {"n": 1, "zeta": 24.719973448405852, "c": 4.7484540045097}, {"n": 2, "zeta": 2.389057412149963, "c": 29.670613568160213}, {"n": 2, "zeta": 1.3125772124472814, "c": 0.5702582848132829}, {"n": 2, "zeta": 3.495380422832208, "c": 74.49587095292831}], "tail": {"c": 0.212805788712595, "b": 0.4424166366470854, "beta": -1.0, "kappa": 0.49337721244728083}},
  "F0": {"state_id": "F0", "Z": 9, "charge": 0, "n_electrons": 9, "shells": [{"n": 1, "zeta": 8.85398174188667, "c": 443.3593431962581}, {"n": 1, "zeta": 26.9454982262449, "c": 3.607509704974853}, {"n": 2, "zeta": 1.8501597186235992, "c": 5.5968815100028575}, {"n": 2, "zeta": 2.9756360657985983, "c": 103.1623090367386}], "tail": {"c": 0.5478987968430566, "b": 1.8272530394641462, "beta": -0.11226697603377045, "kappa": 1.1264647962877194}}
}''')

H1S = {"Z": 1, "n_electrons": 1, "charge": 0,
       "shells": [{"n": 1, "zeta": 1.0, "c": 1.0 / math.pi}], "tail": None}  # e^{-2r}/pi


def _rd(st):
    return slater.RadialDensity.from_dict(st) if st["n_electrons"] else None


def _U_exact(a, b, R):
    return np.asarray(slater.state_coulomb(a["Z"], _rd(a), b["Z"], _rd(b), R))


# ---------------------------------------------------------------------------------- overlap
def test_overlap_hydrogen_1s_closed_form():
    R = np.array([0.0, 0.2, 0.7, 1.0, 3.0, 10.0, 30.0, 60.0])
    S, dS, d2S = pt.overlap_derivatives(H1S, H1S, R)
    poly = 1 + 2 * R + 4 * R ** 2 / 3
    exact = np.exp(-2 * R) * poly / (8 * math.pi)
    dexact = np.exp(-2 * R) * (-2 * poly + 2 + 8 * R / 3) / (8 * math.pi)
    d2exact = np.exp(-2 * R) * (4 * poly - 4 * (2 + 8 * R / 3) + 8 / 3) / (8 * math.pi)
    assert np.max(np.abs(S / exact - 1)) < 1e-12
    assert np.max(np.abs(dS[1:] / dexact[1:] - 1)) < 1e-10
    assert np.max(np.abs(d2S[1:] / d2exact[1:] - 1)) < 1e-9


def test_overlap_at_zero_is_radial_integral():
    a, b = STATES["Li0"], STATES["F-1"]
    ra, rb = _rd(a), _rd(b)

    def f(r):
        return 4 * math.pi * r * r * float(slater.density(ra, r)) * float(slater.density(rb, r))

    pts = [0.01, 0.1, 0.5, 1, 2, 5, 10, 20]
    ref = sum(integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
              for lo, hi in zip([0] + pts, pts + [200]))
    S0 = pt.overlap(a, b, 0.0)
    assert S0 == pytest.approx(ref, rel=1e-11)
    assert pt.overlap(a, b, 1e-4) == pytest.approx(S0, rel=1e-6)  # continuous at R -> 0


def _graded(lo, hi, w0, left=True, right=False, ratio=1.6):
    pts = [lo, hi]
    for on, sgn, start in ((left, 1, lo), (right, -1, hi)):
        x = w0
        while on and x < hi - lo:
            pts.append(start + sgn * x)
            x *= ratio
    return np.unique(pts)


def _gl_nodes(edges, n=24):
    x, w = np.polynomial.legendre.leggauss(n)
    a, b = edges[:-1], edges[1:]
    return (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * x).ravel(), (0.5 * (b - a)[:, None] * w).ravel()


@pytest.mark.parametrize("A,B,R", [("Li0", "F-1", 2.5), ("F0", "Li-1", 0.7)])
def test_overlap_against_brute_force_3d(A, B, R):
    """Independent 3-D quadrature in spherical coordinates about centre a (azimuth exact):
    2 pi int r^2 dr int dmu rho_a(r) rho_b(sqrt(r^2 + R^2 - 2 r R mu)), graded at the cusps."""
    ra, rb = _rd(STATES[A]), _rd(STATES[B])
    r, wr = _gl_nodes(np.unique(np.concatenate([_graded(0, R, 1e-4, True, True), _graded(R, R + 120, 1e-4)])))
    t, wt = _gl_nodes(_graded(0.0, 2.0, 1e-7))  # t = 1 - mu, graded towards the axis through b
    rr, tt = np.meshgrid(r, t, indexing="ij")
    d = np.sqrt(np.maximum(rr ** 2 + R ** 2 - 2 * rr * R * (1 - tt), 0.0))
    val = np.asarray(slater.density(ra, rr.ravel())) * np.asarray(slater.density(rb, d.ravel()))
    ref = 2 * math.pi * np.einsum("i,j,ij->", wr * r ** 2, wt, val.reshape(rr.shape))
    assert pt.overlap(STATES[A], STATES[B], R) == pytest.approx(ref, rel=1e-10)


def test_overlap_derivatives_finite_differences():
    a, b = STATES["Li-1"], STATES["F0"]
    R = np.array([0.5, 1.7, 4.0, 12.0])
    S, dS, d2S = pt.overlap_derivatives(a, b, R)
    h = 1e-3
    Sp2, Sp1, Sm1, Sm2 = (pt.overlap(a, b, R + k * h) for k in (2, 1, -1, -2))
    d1 = (-Sp2 + 8 * Sp1 - 8 * Sm1 + Sm2) / (12 * h)
    d2 = (-Sp2 + 16 * Sp1 - 30 * S + 16 * Sm1 - Sm2) / (12 * h * h)
    assert np.max(np.abs(d1 / dS - 1)) < 1e-8
    assert np.max(np.abs(d2 / d2S - 1)) < 1e-6


@pytest.mark.parametrize("A,B", [("H-1", "F-1"), ("F+1", "Li-1"), ("Li0", "F0"), ("H-1", "Li+1")])
def test_overlap_independent_of_order(A, B):
    """S_ab and S_ba use different quadrature layouts (graded about the other centre): they
    agree to rounding at all R, including R where S is ~1e-13 (a sensitive test of the panels)."""
    R = np.geomspace(0.2, 60.0, 150)
    S1, d1, _ = pt.overlap_derivatives(STATES[A], STATES[B], R)
    S2, d2, _ = pt.overlap_derivatives(STATES[B], STATES[A], R)
    keep = S1 > 1e-15
    assert np.max(np.abs(S1[keep] / S2[keep] - 1)) < 1e-12
    assert np.max(np.abs(d1[keep] / d2[keep] - 1)) < 1e-10


def test_overlap_bare_nucleus_is_zero():
    assert pt.overlap(STATES["H+1"], STATES["F0"], 1.0) == 0.0
    S, dS, d2S = pt.overlap_derivatives(None, STATES["F0"], [1.0, 2.0])
    assert not np.any(S) and not np.any(dS) and not np.any(d2S)


@pytest.mark.parametrize("A,B", [("Li-1", "F0"), ("F-1", "Li+1"), ("H+1", "F-1"), ("F0", "H+1"),
                                 ("H-1", "Li0"), ("F-1", "F-1")])
def test_short_range_coulomb_matches_slater(A, B):
    a, b = STATES[A], STATES[B]
    R = np.array([0.2, 0.5, 1.0, 2.0, 3.5, 7.0, 15.0, 30.0])
    W, dW, d2W = pt.short_range_coulomb(a["Z"], a, b["Z"], b, R)
    qq = a["charge"] * b["charge"]
    U = _U_exact(a, b, R)
    dU = np.asarray(slater.state_coulomb_derivative(a["Z"], _rd(a), b["Z"], _rd(b), R))
    assert np.max(np.abs((qq + W) / R - U)) < 1e-10
    assert np.max(np.abs(dW - (U + R * dU))) < 1e-10
    # W'' (Poisson) against finite differences of W'
    h = 1e-4
    fd = (pt.short_range_coulomb(a["Z"], a, b["Z"], b, R + h)[1]
          - pt.short_range_coulomb(a["Z"], a, b["Z"], b, R - h)[1]) / (2 * h)
    assert np.max(np.abs(fd - d2W) / np.maximum(1.0, np.abs(d2W))) < 1e-6


# ---------------------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def li_f_tables():
    pt.clear_cache()
    li = [STATES["Li+1"], STATES["Li-1"], STATES["Li0"]]
    f = [STATES["F+1"], STATES["F-1"], STATES["F0"]]
    return li, f, pt.build_pair_tables(li, f)


def _between_knots(tab, rng, n):
    k = np.sort(rng.choice(tab.n_knots - 1, size=min(n, tab.n_knots - 1), replace=False))
    return tab.knots[k] + rng.uniform(0.05, 0.95, k.size) * np.diff(tab.knots)[k]


def test_table_accuracy_S_U_rho(li_f_tables):
    li, f, tabs = li_f_tables
    rng = np.random.default_rng(1)
    for (i, j), T in tabs.items():
        a, b = li[i], f[j]
        S = T["S"]
        R = _between_knots(S, rng, 60)
        v, dv = S(R)
        S_ex, dS_ex, _ = pt.overlap_derivatives(a, b, R)
        assert np.max(np.abs(v / S_ex - 1)) < 1e-8, (a["state_id"], b["state_id"])
        assert np.max(np.abs(dv / dS_ex - 1)) < 1e-6
        U = T["U"]
        R = _between_knots(U, rng, 12)
        v, dv = U(R)
        assert np.max(np.abs(v - _U_exact(a, b, R))) < 1e-8, (a["state_id"], b["state_id"])
        for key, st in (("rho_a_at_R", a), ("rho_b_at_R", b)):
            tab = T[key]
            R = _between_knots(tab, rng, 100)
            v, dv = tab(R)
            ex = np.asarray(slater.density(_rd(st), R))
            assert np.max(np.abs(v / ex - 1)) < 1e-8


def test_table_ends(li_f_tables):
    li, f, tabs = li_f_tables
    for (i, j), T in tabs.items():
        a, b = li[i], f[j]
        qq = a["charge"] * b["charge"]
        U = T["U"]
        # at and beyond the end: the exact asymptote, and the short-range part is negligible there
        Rend = U.R_max
        assert abs(_U_exact(a, b, Rend) - qq / Rend) < 1e-10
        for R in (Rend * 1.0001, Rend * 3):
            v, d = U(R)
            assert v == pytest.approx(qq / R, rel=1e-15) and d == pytest.approx(-qq / R ** 2, rel=1e-15)
        assert abs(U(Rend * (1 - 1e-12))[0] - qq / Rend) < 1e-10  # continuous to 1e-10 Ha
        S = T["S"]
        assert S(S.R_max)[0] <= pt.S_TOL_DEFAULT * 1.0001
        assert 0 < S(S.R_max * 2)[0] < S(S.R_max)[0]  # log-linear continuation decays
        # below R_min: the first piece is continued smoothly
        v, d = U(0.1)
        assert v == pytest.approx(float(_U_exact(a, b, 0.1)), rel=1e-3)


def test_tables_are_C1(li_f_tables):
    _, _, tabs = li_f_tables
    T = tabs[(1, 2)]
    for key in ("S", "U", "rho_b_at_R"):
        tab = T[key]
        k = tab.knots[1:-1]
        eps = 1e-9 * k
        vl, dl = tab(k - eps)
        vr, dr = tab(k + eps)
        assert np.max(np.abs(vl - vr) / np.maximum(np.abs(vl), 1e-300)) < 1e-6
        assert np.max(np.abs(dl - dr) / np.maximum(np.abs(dl), 1e-3)) < 1e-5


def test_eval_table_from_numba(li_f_tables):
    _, _, tabs = li_f_tables
    tab = tabs[(0, 1)]["U"]

    @numba.njit
    def total(arrays, Rs):
        s = 0.0
        for R in Rs:
            v, d = pt.eval_table(arrays, R)
            s += v + d
        return s

    Rs = np.linspace(0.3, 40.0, 50)
    v, d = tab(Rs)
    assert total(tab.arrays, Rs) == pytest.approx(float(np.sum(v + d)), rel=1e-14)


def test_build_time_and_cache():
    pt.clear_cache()
    h = [STATES["H+1"], STATES["H-1"], H1S]
    li = [STATES["Li+1"], STATES["Li-1"], STATES["Li0"]]
    pt.build_pair_tables(h[:1], li[:1])  # JIT warm-up
    pt.clear_cache()
    t0 = time.perf_counter()
    tabs = pt.build_pair_tables(h, li)
    dt = time.perf_counter() - t0
    assert dt < 30.0  # ~1-2 s on an idle core; generous for a shared CI machine
    t0 = time.perf_counter()
    again = pt.build_pair_tables(li, h)  # reversed pair: S and U come from the cache
    assert time.perf_counter() - t0 < 0.5
    assert again[(1, 2)]["U"] is tabs[(2, 1)]["U"]
    # bare proton: no overlap, the point-sampled density is what it sees
    T = tabs[(0, 2)]
    assert T["S"](1.0)[0] == 0.0 and T["rho_a_at_R"](1.0)[0] == 0.0
    assert T["rho_b_at_R"](1.3)[0] == pytest.approx(float(slater.density(_rd(li[2]), 1.3)), rel=1e-8)


# ---------------------------------------------------------------------------------- cutoffs
def test_cutoff_radius():
    st = STATES["Li-1"]
    rd = _rd(st)
    rc = pt.cutoff_radius(st, 1e-10)
    rmax = float(slater.density(rd, 0.0))
    assert float(slater.density(rd, rc)) == pytest.approx(1e-10 * rmax, rel=1e-6)
    assert pt.cutoff_radius(st, 1e-12) > rc > pt.cutoff_radius(STATES["Li+1"], 1e-10)
    assert pt.cutoff_radius(None) == 0.0


def test_switch_is_C1():
    s, ds = pt.switch(np.array([0.5, 1.0, 2.0, 3.0, 3.5]), 1.0, 3.0)
    assert s[0] == 1 and s[1] == 1 and s[2] == 0.5 and s[3] == 0 and s[4] == 0
    assert ds[0] == 0 and ds[1] == 0 and ds[3] == 0
    x = np.linspace(1.01, 2.99, 7)
    h = 1e-6
    fd = (pt.switch(x + h, 1.0, 3.0)[0] - pt.switch(x - h, 1.0, 3.0)[0]) / (2 * h)
    assert np.max(np.abs(fd - pt.switch(x, 1.0, 3.0)[1])) < 1e-8


def test_overlap_against_brute_force_2d_quadrature_at_large_R():
    """pair_tables.overlap (used by the potential and by the embedding window) against
    scipy's dblquad over (r, cos θ) for Li-like and F-like multi-term densities with tails,
    out to 12 bohr where an earlier 1-D cumulative route lost 2e-4 to cancellation."""
    from scipy import integrate

    from ectem_core.density import slater
    from ectem_core.embedding import window as embedding
    from ectem_core.potential import pair_tables

    a = slater.RadialDensity.from_dict({"shells": [{"n": 1, "zeta": 2.6, "c": 11.0}, {"n": 1, "zeta": 4.4, "c": 2.6}],
                                         "tail": {"c": 0.04, "b": 4.0, "beta": 0.59, "kappa": 0.627}})
    b = slater.RadialDensity.from_dict({"shells": [{"n": 1, "zeta": 8.85, "c": 443.0}, {"n": 2, "zeta": 1.85, "c": 5.6},
                                                   {"n": 2, "zeta": 2.98, "c": 103.0}],
                                         "tail": {"c": 0.55, "b": 1.83, "beta": -0.112, "kappa": 1.126}})
    for R in (1.5, 6.0, 12.0):
        f = lambda mu, r: 2 * np.pi * r * r * slater.density(a, r) * slater.density(b, np.sqrt(r * r + R * R - 2 * r * R * mu))  # noqa: E731
        ref = integrate.dblquad(f, 0, 60, -1, 1, epsabs=0, epsrel=1e-11)[0]
        assert abs(float(pair_tables.overlap(a, b, R)) / ref - 1) < 1e-10
        assert abs(float(embedding.overlap(a, b, R)[0]) / ref - 1) < 1e-10
