"""μ = ∂E/∂N from the KKT conditions of the CPE (cpe.chemical_potential) against the envelope
theorem: with fractional weights the minimum energy E*(Q) of the constrained problem has the slope
dE*/dQ = −μ (N = −Q + const), checked by central differences of whole CPE solves; at a vertex the
interval [μ_lo, μ_hi] brackets the one-sided slopes."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def pot(small_bundle):
    from ectem_core.potential import load_potential

    return load_potential(small_bundle)


def _energy(pot, system, pos, Q):
    """CPE solve at total charge Q, locally from the feasible point between the neutral vertex and
    Li⁺ (Q > 0) or F⁻ (Q < 0) (a fractional Q has no vertex to start from)."""
    from ectem_core.potential.cpe import solve

    if Q == 0.0:
        return solve(pot, system, pos)                   # the global minimum
    c = pot.ground_weights(system)
    ion = c.copy()
    li, f = pot.elements[system.element_index[0]], pot.elements[system.element_index[1]]
    if Q > 0:
        ion[:system.offsets[1]] = 0.0
        ion[li.cation] = 1.0
    elif Q < 0:
        ion[system.offsets[1]:] = 0.0
        ion[system.offsets[1] + f.anion] = 1.0
    return solve(pot, system, pos, Q=Q, warm_start=(1 - abs(Q)) * c + abs(Q) * ion, global_checks=False)


def test_mu_is_minus_the_slope_of_the_cpe_energy_in_the_total_charge(pot):
    system = pot.system(["Li", "F"])
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 6.0]])
    res = _energy(pot, system, pos, 0.5)                 # half an electron removed: a fractional weight
    assert np.any((res.weights > 1e-6) & (res.weights < 1 - 1e-6))
    lo, hi = res.mu
    assert lo == hi
    h = 1e-4
    e_plus = _energy(pot, system, pos, 0.5 + h).evaluation.energy
    e_minus = _energy(pot, system, pos, 0.5 - h).evaluation.energy
    slope = (e_plus - e_minus) / (2 * h)
    assert lo == pytest.approx(-slope, rel=1e-6, abs=1e-8)


def test_vertex_interval_brackets_the_one_sided_slopes(pot):
    system = pot.system(["Li", "F"])
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])   # the ionic vertex Li⁺F⁻
    res = _energy(pot, system, pos, 0.0)
    assert np.all((res.weights < 1e-9) | (res.weights > 1 - 1e-9))
    assert res.evaluation.charges[0] == pytest.approx(1.0)
    lo, hi = res.mu
    assert lo < hi
    h = 1e-5
    e0 = res.evaluation.energy
    up = (_energy(pot, system, pos, h).evaluation.energy - e0) / h          # removing electrons: slope −μ_+ ≥ −hi
    down = (e0 - _energy(pot, system, pos, -h).evaluation.energy) / h      # adding electrons: slope −μ_− ≤ −lo
    assert -up <= hi + 1e-6 and -down >= lo - 1e-6
