"""The fast path of the potential (ectem_core.potential.fastmodel, neighbours, the numba CPE solver in cpe)
against the reference Python model and SLSQP solver on the real small bundle, plus exact
properties: finite differences, projection optimality, brute-force neighbour lists.
No timing thresholds (benchmarks/bench_potential.py measures speed)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

VARIANTS = ("pure", "resonance", "thermal")


@pytest.fixture(scope="module")
def pots(small_bundle):
    from ectem_core.potential import load_potential

    return {(v, bg): load_potential(small_bundle, variant=v, background=bg)
            for v in VARIANTS for bg in ("overlap", "point")}


def _random_cluster(pot, seed, n=8, box=7.0):
    rng = np.random.default_rng(seed)
    syms = list(rng.choice(["H", "Li", "F"], n))
    system = pot.system(syms)
    pos = rng.uniform(0, box, (n, 3))
    c = np.concatenate([rng.dirichlet(np.ones(len(pot.elements[k].state_ids))) for k in system.element_index])
    return system, pos, c


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("background", ["overlap", "point"])
def test_exact_mode_reproduces_reference_model(pots, variant, background):
    from ectem_core.potential.fastmodel import fast_model

    pot = pots[variant, background]
    fm = fast_model(pot)
    assert fm.supported, fm.reason
    for seed in (11, 12):
        system, pos, c = _random_cluster(pot, seed)
        ref = pot.evaluate(system, pos, c)
        ev = fm.evaluate(system, pos, c)
        assert abs(ev.energy - ref.energy) <= 1e-12 * abs(ref.energy)
        for got, want in ((ev.grad_c, ref.grad_c), (ev.grad_r, ref.grad_r), (ev.charges, ref.charges),
                          (ev.rho_bar, ref.rho_bar)):
            assert _rel(got, want) <= 1e-12


def test_unsupported_model_dispatches_to_python(pots):
    from ectem_core.errors import InputError
    from ectem_core.potential.fastmodel import FastModel, evaluate

    pot = pots["pure", "overlap"]
    system, pos, c = _random_cluster(pot, 3)

    class Wrapped:  # a pair provider the fast path cannot read
        def __init__(self, inner):
            self.inner = inner

        def evaluate(self, *a):
            return self.inner.evaluate(*a)

    from ectem_core.potential.model import ECTModel

    other = ECTModel(pot.elements, Wrapped(pot.pairs), pot.options)
    assert not FastModel(other).supported
    assert evaluate(other, system, pos, c).energy == pot.evaluate(system, pos, c).energy
    from ectem_core.potential.cpe import solve

    with pytest.raises(InputError, match="slsqp"):
        solve(other, system, pos, method="fast")
    with pytest.raises(InputError, match="method"):
        solve(pot, system, pos, method="newton")
    with pytest.raises(InputError, match="cutoff_tol"):
        FastModel(pot, cutoff_tol=-1.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cutoff_mode_forces_and_weight_gradient_are_derivatives(pots, variant):
    """C¹ switches: central differences of the cut-off energy at fixed weights equal grad_r and
    grad_c (a cluster with pairs inside the switching shells: r_max = 8 bohr, width 2 bohr)."""
    from ectem_core.potential.fastmodel import FastModel

    pot = pots[variant, "overlap"]
    fm = FastModel(pot, cutoff_tol=1e-6, r_max=8.0)
    system, pos, c = _random_cluster(pot, 21, n=10, box=9.0)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    assert np.any((d > 6.0) & (d < 8.0))   # some pairs are being switched off
    ev = fm.evaluate(system, pos, c)
    h = 1e-5
    for i in range(system.n_atoms):
        for x in range(3):
            pp, pm = pos.copy(), pos.copy()
            pp[i, x] += h
            pm[i, x] -= h
            fd = (fm.evaluate(system, pp, c).energy - fm.evaluate(system, pm, c).energy) / (2 * h)
            assert abs(fd - ev.grad_r[i, x]) < 1e-7 * max(1.0, abs(fd))
    for k in range(c.size):
        cp, cm = c.copy(), c.copy()
        cp[k] += h
        cm[k] -= h
        fd = (fm.evaluate(system, pos, cp).energy - fm.evaluate(system, pos, cm).energy) / (2 * h)
        assert abs(fd - ev.grad_c[k]) < 1e-6 * max(1.0, abs(fd))


def test_cutoff_mode_converges_to_exact(pots):
    """Tightening the tolerance moves the cut-off energy onto the exact one."""
    from ectem_core.potential.fastmodel import FastModel

    pot = pots["pure", "overlap"]
    system, pos, c = _random_cluster(pot, 4, n=12, box=14.0)
    exact = pot.evaluate(system, pos, c).energy
    errs = [abs(FastModel(pot, cutoff_tol=tol).evaluate(system, pos, c).energy - exact) for tol in (1e-4, 1e-8, 1e-11)]
    assert errs[2] < 1e-9
    assert errs[2] <= errs[1] <= errs[0] and errs[0] > 0


def test_neighbour_list_equals_brute_force():
    from ectem_core.errors import InputError
    from ectem_core.potential.neighbours import all_pairs, neighbour_pairs

    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 30, (400, 3))
    pos[7] = pos[3] + [1e-3, 0, 0]
    for cutoff in (2.0, 7.0, 45.0):
        i, j = neighbour_pairs(pos, cutoff)
        I, J = all_pairs(len(pos))
        keep = np.linalg.norm(pos[I] - pos[J], axis=1) < cutoff
        assert sorted(zip(i.tolist(), j.tolist())) == sorted(zip(I[keep].tolist(), J[keep].tolist()))
        assert np.all(i < j)
    with pytest.raises(InputError, match="cutoff"):
        neighbour_pairs(pos, 0.0)


def test_projection_is_the_euclidean_projection():
    """P(y) onto {c_i in simplex_i, Σ q c = Q} against a convex QP solved independently."""
    from ectem_core.potential.cpe_kernels import project_feasible

    rng = np.random.default_rng(2)
    woff = np.array([0, 4, 7, 10, 13], dtype=np.int64)
    qv = np.array([0, 1, -1, 0, 0, 1, -1, 0, 1, -1, 0, -1, 1], dtype=float)
    A = np.zeros((5, 13))
    for i in range(4):
        A[i, woff[i]:woff[i + 1]] = 1
    A[4] = qv
    for Q in (0.0, 1.0, -2.5):
        y = rng.normal(size=13)
        out = np.empty(13)
        nu = project_feasible(y, woff, qv, Q, out)
        assert np.isfinite(nu) and np.all(out >= 0)
        assert np.abs(A @ out - np.r_[np.ones(4), Q]).max() < 1e-13
        ref = optimize.minimize(lambda x: 0.5 * np.sum((x - y) ** 2), np.full(13, 0.25), jac=lambda x: x - y,
                                method="SLSQP", bounds=[(0, None)] * 13,
                                constraints=[{"type": "eq", "fun": lambda x: A @ x - np.r_[np.ones(4), Q]}],
                                options={"ftol": 1e-15, "maxiter": 500})
        assert np.abs(out - ref.x).max() < 1e-6
        assert 0.5 * np.sum((out - y) ** 2) <= ref.fun + 1e-12
    assert not np.isfinite(project_feasible(np.zeros(13), woff, qv, 5.0, np.empty(13)))  # Q unreachable


@pytest.mark.parametrize("variant", VARIANTS)
def test_dimer_global_minimum_matches_slsqp(pots, variant):
    """Same global minimum energy (1e-10) as the reference SLSQP solve on a grid of R, same
    weights where the minimum is a vertex, Σq = 0 and simplex rules exactly."""
    from ectem_core.potential.cpe import solve

    pot = pots[variant, "overlap"]
    for pair in (("Li", "F"), ("Li", "H"), ("H", "F"), ("H", "H")):
        system = pot.system(list(pair))
        for R in (1.6, 2.5, 3.0, 4.5, 7.0, 12.0, 14.0, 25.0):
            pos = np.array([[0.0, 0, 0], [0, 0, R]])
            a = solve(pot, system, pos, method="fast")
            b = solve(pot, system, pos, method="slsqp")
            assert a.evaluation.energy <= b.evaluation.energy + 1e-10, (pair, R)
            assert abs(a.evaluation.energy - b.evaluation.energy) < 1e-10, (pair, R)
            c = a.weights
            assert np.all(c >= 0) and abs(a.evaluation.charges.sum()) < 1e-12
            assert all(abs(c[system.slice(i)].sum() - 1) < 1e-12 for i in range(2))
            if np.all((b.weights < 1e-9) | (b.weights > 1 - 1e-9)):
                assert np.abs(a.weights - b.weights).max() < 1e-8, (pair, R)


def test_cluster_cpe_never_above_slsqp(pots):
    """8-atom H/Li/F clusters (the force test's geometry among them): the fast solve's energy is
    the reference model's energy of its weights, and never above the SLSQP global solve."""
    from ectem_core.potential.cpe import solve

    pot = pots["pure", "overlap"]
    syms = ["Li", "F", "H", "Li", "F", "H", "Li", "F"]
    system = pot.system(syms)
    for seed in (1, 5):
        pos = np.random.default_rng(seed).uniform(0, 7, (8, 3))
        a = solve(pot, system, pos, method="fast")
        b = solve(pot, system, pos, method="slsqp")
        ref = pot.evaluate(system, pos, a.weights)
        scale = sum(abs(v) for v in ref.parts.values())   # the energy is a difference of these
        assert abs(ref.energy - a.evaluation.energy) < 1e-12 * scale
        assert a.evaluation.energy <= b.evaluation.energy + 1e-10
        assert abs(a.evaluation.charges.sum()) < 1e-12 and np.all(a.weights >= 0)


def test_scan_fast_path_equals_reference_path(small_bundle):
    from ectem_core.potential.scan import scan

    fast = scan(small_bundle, "Li-F", 2.0, 30.0, 12)
    ref = scan(small_bundle, "Li-F", 2.0, 30.0, 12, cpe_method="slsqp")
    assert list(fast[0]) == list(ref[0])
    for a, b in zip(fast, ref):
        assert abs(a["energy_hartree"] - b["energy_hartree"]) < 1e-10
        assert abs(a["q_A"] - b["q_A"]) < 1e-8
    eam_f = scan(small_bundle, "Li-F", 2.0, 30.0, 5, model_name="eam")
    eam_r = scan(small_bundle, "Li-F", 2.0, 30.0, 5, model_name="eam", cpe_method="slsqp")
    assert all(abs(a["energy_hartree"] - b["energy_hartree"]) <= 1e-12 * abs(b["energy_hartree"])
               for a, b in zip(eam_f, eam_r))
