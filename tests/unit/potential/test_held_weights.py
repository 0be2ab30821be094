"""ECTEAM with `cpe_skin`: vertex weights held between CPE solves on the fixed-weight path (the MD
step of the pure model). Expected values come from the definition of the CPE (the held vertex is a
feasible point, so its energy is at or above the solved minimum), from the fast model at the same
weights, and from central finite differences of the held energy."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def lif_cell():
    """Rattled 2×2×2 conventional rock-salt LiF supercell (64 atoms, a = 4.1 Å)."""
    from ase.build import bulk

    atoms = bulk("LiF", "rocksalt", a=4.1, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.02, seed=3)
    return atoms


def _solved_cell(small_bundle, lif_cell):
    """(potential, cut-off fast model, system, positions bohr, cell bohr, global CPE result) of the LiF cell."""
    from ase.units import Bohr

    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.fastmodel import fast_model

    pot = load_potential(small_bundle)
    fm = fast_model(pot, cutoff_tol=1e-6, r_max=12.0)
    system = pot.system(lif_cell.get_chemical_symbols())
    cell = np.asarray(lif_cell.get_cell()) / Bohr
    pos = lif_cell.get_positions() / Bohr
    return pot, fm, system, pos, cell, solve(pot, system, pos, fast=fm, cell=cell)


def test_small_moves_hold_the_vertex_and_large_moves_resolve(small_bundle, lif_cell):
    from ase.units import Bohr, Hartree

    from ectem_core.ase import ECTEAM
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.fastmodel import fast_model

    atoms = lif_cell.copy()
    calc = ECTEAM(str(small_bundle), cpe_skin=0.2, cutoff_tol=1e-6)
    atoms.calc = calc
    atoms.get_potential_energy()
    assert calc.cpe_solves == 1 and calc.results["cpe_solved"]
    c0 = calc.results["weights"].copy()
    assert np.all((c0 == 0) | (c0 == 1))          # the pure model's ionic crystal is a vertex

    atoms.positions[5] += [0.03, -0.02, 0.01]      # 0.04 Å = 0.07 bohr < skin: held
    e_held = atoms.get_potential_energy()
    f_held = atoms.get_forces()
    assert calc.cpe_solves == 1 and calc.held_steps >= 1 and not calc.results["cpe_solved"]
    assert np.array_equal(calc.results["weights"], c0)
    pot = load_potential(small_bundle)
    system = pot.system(atoms.get_chemical_symbols())
    fm = fast_model(pot, cutoff_tol=1e-6, r_max=12.0)
    cell = np.asarray(atoms.get_cell()) / Bohr
    pos = atoms.get_positions() / Bohr
    ref = fm.evaluate(system, pos, c0, cell=cell)
    assert e_held == pytest.approx(ref.energy * Hartree, rel=1e-10)
    assert np.allclose(f_held, -ref.grad_r * Hartree / Bohr, atol=1e-8)
    # a feasible point cannot lie below the CPE minimum at the same geometry
    e_min = solve(pot, system, pos, warm_start=c0, fast=fm, cell=cell).evaluation.energy * Hartree
    assert e_held >= e_min - 1e-9

    # forces of the held step are the gradient of the held energy (central differences, 1e-4 Å)
    h = 1e-4
    for k in (5, 40):
        for x in range(3):
            a = atoms.copy()
            a.calc = calc
            a.positions[k, x] += h
            ep = a.get_potential_energy()
            a.positions[k, x] -= 2 * h
            em = a.get_potential_energy()
            assert (ep - em) / (2 * h) == pytest.approx(-f_held[k, x], abs=2e-5)

    atoms.positions[7] += [0.3, 0.0, 0.0]          # 0.57 bohr > skin: solved again
    atoms.get_potential_energy()
    assert calc.cpe_solves == 2 and calc.results["cpe_solved"]


def test_cpe_skin_is_checked(small_bundle, lif_cell):
    from ectem_core.ase import ECTEAM
    from ectem_core.errors import InputError

    with pytest.raises(InputError, match="cpe_skin must be a distance"):
        ECTEAM(str(small_bundle), cpe_skin=-1.0)
    molecule = lif_cell[:2].copy()
    molecule.pbc = False
    molecule.calc = ECTEAM(str(small_bundle), cpe_skin=0.2)     # exact model (no cut-off): nothing to hold with
    with pytest.raises(InputError, match="cut-off model"):
        molecule.get_potential_energy()


def test_local_solve_from_the_warm_start_alone(small_bundle, lif_cell):
    """global_checks=False: one local solve from the warm start. From the global solution of a nearby
    geometry it finds the same minimum as the full solve (the ionic crystal); it never goes below the
    global minimum; without a warm start it is refused."""
    from ectem_core.errors import InputError
    from ectem_core.potential.cpe import solve

    pot, fm, system, pos, cell, full = _solved_cell(small_bundle, lif_cell)
    moved = pos.copy()
    moved[3] += [0.05, 0.0, -0.05]
    local = solve(pot, system, moved, warm_start=full.weights, fast=fm, cell=cell, global_checks=False)
    again = solve(pot, system, moved, warm_start=full.weights, fast=fm, cell=cell)
    assert local.n_candidates == 1
    assert local.evaluation.energy >= again.evaluation.energy - 1e-10
    assert local.evaluation.energy == pytest.approx(again.evaluation.energy, rel=1e-10)
    assert np.allclose(local.evaluation.charges, again.evaluation.charges, atol=1e-8)
    with pytest.raises(InputError, match="warm_start"):
        solve(pot, system, moved, fast=fm, cell=cell, global_checks=False)


@pytest.mark.parametrize("long_range", ["ewald", "pme", "direct"])
def test_vertex_gradient_is_the_fast_model_gradient(small_bundle, lif_cell, long_range):
    """FixedWeights.weight_gradient (grouped tables, the state pairs (s, a_j) and (a_i, t) only) equals
    dE/dc of FastModel.evaluate (every state pair) at the ionic and the neutral vertex of a rattled LiF
    cell (Ewald or PME with its real space folded) and cluster (direct sum), whatever the number of atom
    chunks of its parallel pass; it is refused at fractional weights."""
    import numba
    from ase.units import Bohr

    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights, cached_fixed_weights

    pot = load_potential(small_bundle)
    fm = fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range=long_range)
    at = lif_cell.copy()
    at.rattle(0.1, seed=5)
    system = pot.system(at.get_chemical_symbols())
    pos = at.get_positions() / Bohr
    cell = None if long_range == "direct" else np.asarray(at.get_cell()) / Bohr
    ionic = np.zeros(system.offsets[-1])
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        ionic[system.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
    for c in (ionic, pot.ground_weights(system)):
        fw = cached_fixed_weights(fm, system, c)
        assert cached_fixed_weights(fm, system, c) is fw
        fw.evaluate(pos, cell=cell)
        ref = fm.evaluate(system, pos, c, cell=cell)
        g = fw.weight_gradient(pos, cell)
        assert np.abs(g - ref.grad_c).max() <= 1e-10 * np.abs(ref.grad_c).max()
        threads = numba.get_num_threads()   # one chunk of atoms instead of one per thread: the same sums
        numba.set_num_threads(1)
        try:
            g1 = fw.weight_gradient(pos, cell)
        finally:
            numba.set_num_threads(threads)
        assert np.abs(g1 - g).max() <= 1e-12 * np.abs(g).max()
    half = 0.5 * (ionic + pot.ground_weights(system))
    fw = FixedWeights(fm, system, half)
    fw.evaluate(pos, cell=cell)
    assert fw.vertex is None and fw.weight_gradient(pos, cell) is None


def test_local_solve_at_a_converged_vertex_takes_the_fixed_weight_path(small_bundle, lif_cell):
    """A local solve whose warm start is the converged ionic vertex returns it with the fixed-weight
    evaluator's energy and forces (the same as the fast model's up to the table resampling) and ∂E/∂c, via one cached
    evaluator; from a vertex that is not a KKT point (all atoms neutral) it solves on the full pair data."""
    from ectem_core.potential.cpe import solve

    pot, fm, system, pos, cell, full = _solved_cell(small_bundle, lif_cell)
    assert np.all((full.weights == 0) | (full.weights == 1))
    moved = pos + 0.004 * np.random.default_rng(2).normal(size=pos.shape)
    fm.__dict__.pop("_fixed_weights", None)
    local = solve(pot, system, moved, warm_start=full.weights, fast=fm, cell=cell, global_checks=False)
    assert len(fm.__dict__.get("_fixed_weights", [])) == 1      # the vertex path ran
    ref = fm.evaluate(system, moved, local.weights, cell=cell)
    assert np.array_equal(local.weights, full.weights) and local.converged
    assert local.evaluation.energy == pytest.approx(ref.energy, rel=1e-12)
    # forces of a near-perfect crystal are small (1e-2 Ha/bohr), so the tables' resampling shows at 1e-10 of them
    assert np.abs(local.evaluation.grad_r - ref.grad_r).max() <= 1e-9 * np.abs(ref.grad_r).max()
    assert np.abs(local.evaluation.grad_c - ref.grad_c).max() <= 1e-10 * np.abs(ref.grad_c).max()
    neutral = solve(pot, system, moved, warm_start=pot.ground_weights(system), fast=fm, cell=cell, global_checks=False)
    assert not np.array_equal(neutral.weights, pot.ground_weights(system))
    assert neutral.evaluation.energy < fm.evaluate(system, moved, pot.ground_weights(system), cell=cell).energy
