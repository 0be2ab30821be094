"""The ECT-EAM energy's algebra on synthetic, analytic pair functions: gradients against
finite differences, sum rules, and the CPE solver's global search (independent of the
density fits and tables that real bundles use)."""
from __future__ import annotations

import numpy as np
import pytest

from ectem_core.potential.cpe import solve, vertices
from ectem_core.potential.model import ECTModel, ElementStates, ModelOptions


class SyntheticPairs:
    """S_st(R) = A_st e^{−a_st R}(1 + a_st R), U_st = q_s q_t / R + B_st e^{−b_st R}, ρ_t(R) = C_t e^{−c_t R}."""

    def __init__(self, elements, seed=3):
        rng = np.random.default_rng(seed)
        self.el = elements
        self.p = {}
        for ea in range(len(elements)):
            for eb in range(len(elements)):
                key = (min(ea, eb), max(ea, eb))
                if key not in self.p:
                    n1, n2 = len(elements[key[0]].state_ids), len(elements[key[1]].state_ids)
                    self.p[key] = {"A": rng.uniform(0.5, 2, (n1, n2)), "a": rng.uniform(0.8, 1.6, (n1, n2)),
                                   "B": rng.uniform(0.1, 1, (n1, n2)), "b": rng.uniform(0.8, 1.6, (n1, n2))}
        self.rho = [(rng.uniform(0.2, 1, len(e.state_ids)), rng.uniform(1, 2, len(e.state_ids))) for e in elements]

    def evaluate(self, ea, eb, R):
        key = (min(ea, eb), max(ea, eb))
        p = {k: (v if ea <= eb else v.T) for k, v in self.p[key].items()}
        qa, qb = self.el[ea].charge.astype(float), self.el[eb].charge.astype(float)
        S = p["A"] * np.exp(-p["a"] * R) * (1 + p["a"] * R)
        dS = -p["A"] * p["a"] ** 2 * R * np.exp(-p["a"] * R)
        U = np.outer(qa, qb) / R + p["B"] * np.exp(-p["b"] * R)
        dU = -np.outer(qa, qb) / R**2 - p["b"] * p["B"] * np.exp(-p["b"] * R)
        Ca, ca = self.rho[ea]
        Cb, cb = self.rho[eb]
        s0 = 0.3 * np.exp(-0.7 * R)
        return {"S": S, "dS": dS, "U": U, "dU": dU, "rho_a": Ca * np.exp(-ca * R), "drho_a": -ca * Ca * np.exp(-ca * R),
                "rho_b": Cb * np.exp(-cb * R), "drho_b": -cb * Cb * np.exp(-cb * R),
                "s_neutral": s0, "ds_neutral": -0.7 * s0}


def _emb(depth, rho0):
    # Baskes-like analytic F with F(0) = 0
    def f(x):
        if x <= 0:
            return 0.0, -np.inf, np.inf
        t = x / rho0
        return depth * t * np.log(t), depth / rho0 * (np.log(t) + 1), depth / (rho0 * x)
    return f


def _elements():
    A = ElementStates("A", 3, ["A0", "A+1", "A-1", "A0*"], np.array([0, 1, -1, 0]), np.array([3, 2, 4, 3]),
                      np.array([0.0, 0.20, -0.02, 0.07]), [_emb(0.01, 0.02), _emb(0.004, 0.03), _emb(0.02, 0.01),
                                                             _emb(0.008, 0.02)], 0, cation=1, anion=2)
    B = ElementStates("B", 9, ["B0", "B+1", "B-1"], np.array([0, 1, -1]), np.array([9, 8, 10]),
                      np.array([0.0, 0.64, -0.125]), [_emb(0.02, 0.05), _emb(0.01, 0.04), _emb(0.03, 0.05)],
                      0, cation=1, anion=2)
    return [A, B]


@pytest.fixture(params=["pure", "resonance"])
def model(request):
    el = _elements()
    return ECTModel(el, SyntheticPairs(el), ModelOptions(variant=request.param))


def test_gradients_match_finite_differences(model):
    rng = np.random.default_rng(0)
    system = model.system(["A", "B", "A", "B", "B"])
    pos = rng.uniform(-3, 3, (5, 3))
    c = rng.uniform(0.05, 1, system.offsets[-1])
    ev = model.evaluate(system, pos, c)
    h = 1e-6
    for k in range(len(c)):
        cp, cm = c.copy(), c.copy()
        cp[k] += h
        cm[k] -= h
        fd = (model.evaluate(system, pos, cp).energy - model.evaluate(system, pos, cm).energy) / (2 * h)
        assert abs(fd - ev.grad_c[k]) < 1e-7 * max(1, abs(fd))
    for i in range(5):
        for x in range(3):
            pp, pm = pos.copy(), pos.copy()
            pp[i, x] += h
            pm[i, x] -= h
            fd = (model.evaluate(system, pp, c).energy - model.evaluate(system, pm, c).energy) / (2 * h)
            assert abs(fd - ev.grad_r[i, x]) < 1e-7 * max(1, abs(fd))


def test_cpe_obeys_sum_rules_and_beats_every_vertex(model):
    system = model.system(["A", "B"])
    for R in (2.0, 4.0, 8.0, 30.0):
        pos = np.array([[0, 0, 0], [0, 0, R]], dtype=float)
        res = solve(model, system, pos)
        c = res.weights
        assert np.all(c >= 0)
        for i in range(2):
            assert abs(c[system.slice(i)].sum() - 1) < 1e-12
        assert abs(res.evaluation.charges.sum()) < 1e-12
        for v in vertices(model, system):
            assert res.evaluation.energy <= model.evaluate(system, pos, v).energy + 1e-12


def test_single_atom_is_its_ground_state(model):
    system = model.system(["B"])
    res = solve(model, system, np.zeros((1, 3)))
    assert res.weights[0] == 1.0 and res.evaluation.energy == 0.0
