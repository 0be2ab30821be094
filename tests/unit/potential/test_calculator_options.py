"""The options of the potential that the other stage-4 tests leave at their defaults:
total charge, the bare proton, the point-sampled background, and the ASE calculator's units.
Expected values: experimental IP/EA (ectem_core/data/ionization_and_affinity.csv: NIST ASD,
Rienstra-Kiracofe et al. Chem. Rev. 102, 231 (2002)), Coulomb's law between fixed ions,
the variational bound of a larger ensemble, and CODATA unit conversions."""
from __future__ import annotations

import numpy as np
import pytest

from ectem_core.elements import experimental_ea_ev, experimental_ip_ev

HARTREE_EV = 27.211386245988      # CODATA 2018
BOHR_ANGSTROM = 0.529177210903    # CODATA 2018


def _pair(R):
    return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, R]])


def _solve(pot, symbols, pos, Q=0.0):
    from ectem_core.potential.cpe import solve

    return solve(pot, pot.system(symbols), pos, Q=Q)


@pytest.fixture(scope="module")
def pure(small_bundle):
    from ectem_core.potential import load_potential

    return load_potential(small_bundle, variant="pure")


def test_ase_calculator_reports_the_model_energy_and_forces_in_ev_and_angstrom(small_bundle, pure):
    from ase import Atoms

    from ectem_core.ase import ECTEAM

    R = 3.2
    res = _solve(pure, ["Li", "F"], _pair(R))
    atoms = Atoms("LiF", positions=_pair(R * BOHR_ANGSTROM))
    atoms.calc = ECTEAM(str(small_bundle))
    assert atoms.get_potential_energy() == pytest.approx(res.evaluation.energy * HARTREE_EV, rel=1e-7)
    forces = atoms.get_forces()
    expected = -res.evaluation.grad_r * HARTREE_EV / BOHR_ANGSTROM
    assert np.allclose(forces, expected, rtol=1e-6, atol=1e-9)
    assert np.allclose(atoms.get_charges(), res.evaluation.charges, atol=1e-12)


@pytest.mark.parametrize("Q, symbol, sign", [(+1.0, "Li", +1), (-1.0, "F", -1)])
def test_a_charged_separated_pair_puts_the_charge_where_it_costs_least(pure, Q, symbol, sign):
    """Far apart, Q = +1 removes the electron with the smallest IP (Li 5.39 eV, not F 17.4 eV)
    and Q = −1 adds it where the EA is largest (F 3.40 eV, not Li 0.62 eV); the energy above
    the neutral pair is then IP_Li or −EA_F (CCSD(T)/aug-cc-pVDZ atoms: within 0.25 eV)."""
    R = 40.0
    neutral = _solve(pure, ["Li", "F"], _pair(R))
    charged = _solve(pure, ["Li", "F"], _pair(R), Q=Q)
    q = dict(zip(("Li", "F"), charged.evaluation.charges))
    assert sum(q.values()) == pytest.approx(Q, abs=1e-10)
    assert q[symbol] == pytest.approx(Q, abs=1e-6)
    de_ev = (charged.evaluation.energy - neutral.evaluation.energy) * HARTREE_EV
    expected = experimental_ip_ev("Li") if sign > 0 else -experimental_ea_ev("F")
    assert de_ev == pytest.approx(expected, abs=0.25)


def test_ase_calculator_total_charge_option_reaches_the_solver(small_bundle):
    from ase import Atoms

    from ectem_core.ase import ECTEAM

    atoms = Atoms("LiF", positions=_pair(20.0 * BOHR_ANGSTROM))
    atoms.calc = ECTEAM(str(small_bundle), total_charge=1.0)
    q = atoms.get_charges()
    assert q.sum() == pytest.approx(1.0, abs=1e-10) and q[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("pair", [("H", "F"), ("Li", "H"), ("H", "H")])
def test_the_bare_proton_only_enlarges_the_ensemble(small_bundle, pure, pair):
    """With H⁺ the weights range over a superset of the ensembles, so the CPE minimum can only
    go down (to solver tolerance); far apart both give the neutral atoms exactly."""
    from ectem_core.potential import load_potential

    with_proton = load_potential(small_bundle, variant="pure", proton=True)
    assert with_proton.system(["H"]).offsets[-1] == pure.system(["H"]).offsets[-1] + 1
    for R in (1.6, 2.5, 4.0):
        e0 = _solve(pure, list(pair), _pair(R)).evaluation.energy
        e1 = _solve(with_proton, list(pair), _pair(R)).evaluation.energy
        assert e1 <= e0 + 1e-9, (pair, R, e0, e1)
    far = _solve(with_proton, list(pair), _pair(40.0))
    assert abs(far.evaluation.energy) < 1e-8 and np.allclose(far.evaluation.charges, 0.0, atol=1e-8)


def _ionic_weights(pot, system):
    c = np.zeros(system.offsets[-1])
    for i, charge in enumerate((+1, -1)):
        el = pot.elements[system.element_index[i]]
        state = el.cation if charge > 0 else el.anion
        c[system.offsets[i] + state] = 1.0
    return c


@pytest.mark.parametrize("background", ["overlap", "point"])
def test_frozen_ions_far_apart_follow_coulombs_law(small_bundle, background):
    """Li⁺F⁻ with the weights held ionic: between 15 and 30 bohr every short-range term has
    died out and E(15) − E(30) = −1/15 + 1/30 hartree (point ions), in either background."""
    from ectem_core.potential import load_potential

    pot = load_potential(small_bundle, variant="pure", background=background)
    system = pot.system(["Li", "F"])
    c = _ionic_weights(pot, system)
    e15 = pot.evaluate(system, _pair(15.0), c, want_forces=False).energy
    e30 = pot.evaluate(system, _pair(30.0), c, want_forces=False).energy
    assert e15 - e30 == pytest.approx(-1.0 / 15.0 + 1.0 / 30.0, abs=2e-4)
    assert pot.charges(system, c) == pytest.approx([1.0, -1.0])


def test_point_background_binds_lif_more_deeply_but_leaves_the_limit(small_bundle, pure):
    """The point-sampled background sees the neighbour's density at the nucleus (larger than
    its overlap average for a decaying density), so the embedding gain and the well deepen;
    the separated atoms are the same zero in both."""
    from ectem_core.potential import load_potential

    point = load_potential(small_bundle, variant="pure", background="point")
    Rs = np.linspace(2.4, 3.6, 13)
    e_overlap = [(_solve(pure, ["Li", "F"], _pair(R)).evaluation.energy) for R in Rs]
    e_point = [(_solve(point, ["Li", "F"], _pair(R)).evaluation.energy) for R in Rs]
    assert min(e_point) < min(e_overlap) - 1e-3
    assert abs(_solve(point, ["Li", "F"], _pair(40.0)).evaluation.energy) < 1e-8
