"""Classic QEq baseline (ectem_core.potential.qeq, Rappé & Goddard 1991)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ectem_core.elements import BOHR_ANGSTROM, HARTREE_EV
from ectem_core.errors import InputError
from ectem_core.potential import qeq


def test_published_parameters_in_hartree():
    p = qeq.published_params("F")
    assert p.chi == pytest.approx(10.874 / HARTREE_EV, rel=1e-15)
    assert p.J == pytest.approx(14.948 / HARTREE_EV, rel=1e-15)
    assert p.n == 2
    assert p.zeta == pytest.approx(0.4913 * 5 / (2 * 0.706 / BOHR_ANGSTROM), rel=1e-14)
    h = qeq.published_params("H")
    assert h.n == 1 and h.zeta == pytest.approx(0.4913 * 3 / (2 * 0.371 / BOHR_ANGSTROM), rel=1e-14)
    assert qeq.published_params("Cl").n == 3
    with pytest.raises(InputError):
        qeq.published_params("Xe")


@pytest.mark.parametrize("A,B,quoted", [("Li", "F", 0.399), ("Na", "Cl", 0.395), ("H", "F", 0.220)])
def test_dissociation_limit_charge(A, B, quoted):
    lim = qeq.limiting_charge(A, B)
    pa, pb = qeq.published_params(A), qeq.published_params(B)
    assert lim == (pb.chi - pa.chi) / (pa.J + pb.J)
    assert round(lim, 3) == quoted  # the numbers quoted in the csv header
    # at R = 1e6 bohr the exact two-atom charge still carries J_AB = 1/R in its denominator:
    # q = (chi_B - chi_A)/(J_A + J_B - 2/R), 2/R = 2e-6 Ha off the limit
    for R in (1e6, 1e9):
        q, E = qeq.qeq_charges([A, B], [[0, 0, 0], [0, 0, R]])
        assert q[0] == pytest.approx(qeq.pair_charge(A, B, R), abs=1e-13)
        assert q[0] == pytest.approx(lim, abs=1.01 * 2.0 / R * lim / (pa.J + pb.J))
        assert q[0] + q[1] == pytest.approx(0.0, abs=1e-15)
    assert q[0] == pytest.approx(lim, abs=1e-8)  # R = 1e9
    # the energy of the stranded charge: E = -(chi_B - chi_A)^2 / (2 (J_A + J_B)) < 0 at R -> inf
    assert E == pytest.approx(-(pb.chi - pa.chi) ** 2 / (2 * (pa.J + pb.J)), rel=1e-8)


def test_total_charge_constraint():
    rng = np.random.default_rng(3)
    symbols = ["Li", "F", "H", "O", "C", "N", "Na", "Cl"]
    pos = rng.uniform(0, 8, (8, 3))
    for Q in (0.0, 1.0, -2.0):
        q, E = qeq.qeq_charges(symbols, pos, Q=Q)
        assert abs(q.sum() - Q) < 1e-12
        # it is the constrained minimum: any charge-conserving perturbation raises E
        chi, H = qeq.qeq_matrix(symbols, pos)
        for _ in range(5):
            d = rng.normal(size=8)
            d -= d.mean()
            assert qeq.qeq_energy(q + 1e-3 * d, chi, H) > E


@pytest.mark.parametrize("shielding", ["slater", "reaxff"])
def test_shielded_coulomb_limits(shielding):
    R = np.array([30.0, 60.0, 100.0, 1e4])
    for a, b in (("Li", "F"), ("H", "H"), ("Na", "Cl")):
        J = qeq.shielded_coulomb(a, b, R, shielding)
        tol = 1e-12 if shielding == "slater" else 1e-4
        assert np.max(np.abs(J * R - 1)[2:]) < tol  # -> 1/R
        J0 = qeq.shielded_coulomb(a, b, 0.0, shielding)
        assert math.isfinite(J0) and 0 < J0 < 2.0
        assert qeq.shielded_coulomb(a, b, 1.0, shielding) < J0
    if shielding == "slater":  # the 1s-1s integral has a closed form
        zeta = qeq.published_params("H").zeta
        R = 1.7
        x = zeta * R
        exact = 1 / R - math.exp(-2 * x) * (1 / R + 11 * zeta / 8 + 3 * zeta * x / 4 + zeta * x * x / 6)
        assert qeq.shielded_coulomb("H", "H", R) == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("shielding", ["slater", "reaxff"])
def test_identical_atoms_stay_neutral(shielding):
    for sym in ("H", "F", "Li"):
        q, E = qeq.qeq_charges([sym, sym], [[0, 0, 0], [0, 0, 1.4]], shielding=shielding)
        assert np.max(np.abs(q)) < 1e-14 and abs(E) < 1e-15
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) * 1.5
    q, _ = qeq.qeq_charges(["C"] * 4, tet, shielding=shielding)
    assert np.max(np.abs(q)) < 1e-14
    q, _ = qeq.qeq_charges(["C"] * 4, tet, Q=1.0, shielding=shielding)
    assert np.allclose(q, 0.25, atol=1e-14)


def test_params_from_ip_ea_variant():
    I, A = 0.19814, 0.02270  # Li-like numbers, hartree
    p = qeq.params_from_ip_ea(I, A, n=2)
    assert p.chi == pytest.approx((I + A) / 2) and p.J == pytest.approx(I - A)
    # default orbital: its own Coulomb integral equals J
    assert qeq.shielded_coulomb(p, p, 0.0) == pytest.approx(p.J, rel=1e-12)
    p2 = qeq.params_from_ip_ea(I, A, n=2, radius_bohr=1.557 / BOHR_ANGSTROM)
    assert p2.zeta == pytest.approx(qeq.published_params("Li").zeta, rel=1e-14)
    F = qeq.params_from_ip_ea(0.6403, 0.1250, n=2)
    q, _ = qeq.qeq_charges(["Li", "F"], [[0, 0, 0], [0, 0, 1e9]], params={"Li": p, "F": F})
    assert q[0] == pytest.approx(qeq.limiting_charge(p, F), abs=1e-8)
    assert q[0] == pytest.approx((F.chi - p.chi) / (p.J + F.J), abs=1e-8)
    with pytest.raises(InputError):
        qeq.params_from_ip_ea(0.1, 0.2)


def test_single_atom_and_bad_input():
    q, E = qeq.qeq_charges(["F"], [[0, 0, 0]], Q=-1)
    p = qeq.published_params("F")
    assert q[0] == -1 and E == pytest.approx(-p.chi + 0.5 * p.J)
    with pytest.raises(InputError):
        qeq.qeq_charges(["F", "F"], [[0, 0, 0]])
    with pytest.raises(InputError):
        qeq.shielded_coulomb("H", "H", 1.0, "nope")
