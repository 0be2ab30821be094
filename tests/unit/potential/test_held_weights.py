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
    from ase.units import Bohr

    from ectem_core.errors import InputError
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.fastmodel import fast_model

    pot = load_potential(small_bundle)
    fm = fast_model(pot, cutoff_tol=1e-6, r_max=12.0)
    system = pot.system(lif_cell.get_chemical_symbols())
    cell = np.asarray(lif_cell.get_cell()) / Bohr
    pos = lif_cell.get_positions() / Bohr
    full = solve(pot, system, pos, fast=fm, cell=cell)
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
