"""The ECT-EAM energy of periodic cells (fastmodel with a cell: periodic neighbour list, Ewald long
range, stress; cpe.solve and ECTEAM with pbc) on the real small bundle. Expected values come from
physics: coordination shells of the simple cubic lattice, extensivity, a molecule in a large box
against the isolated molecule (exact for neutral atoms; for a dipole the tin-foil Ewald energy is
the isolated one minus 2π μ²/(3V), de Leeuw, Perram & Smith, Proc. R. Soc. A 373, 27 (1980)),
central finite differences in positions and in homogeneous strain, and the invariances of an
interatomic potential (translation, rotation, permutation, lattice-vector wrapping)."""
from __future__ import annotations

import numpy as np
import pytest

BOHR_ANGSTROM = 0.529177210903
HARTREE_EV = 27.211386245988


@pytest.fixture(scope="module")
def pot(small_bundle):
    from ectem_core.potential import load_potential

    return load_potential(small_bundle)


@pytest.fixture(scope="module")
def fm(pot):
    from ectem_core.potential.fastmodel import fast_model

    return fast_model(pot, cutoff_tol=1e-6, r_max=12.0)


def _ionic(pot, system):
    c = np.zeros(system.offsets[-1])
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        c[system.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
    return c


def _random_weights(pot, system, rng):
    """Fractional weights on every atom, projected onto the neutral feasible set (Σq = 0)."""
    from ectem_core.potential.cpe import _constraints
    from ectem_core.potential.simplex import project

    c = np.concatenate([rng.dirichlet(np.ones(len(pot.elements[k].state_ids))) for k in system.element_index])
    A, b = _constraints(pot, system, 0.0)
    return project(c, A, b)


def _rocksalt_conventional(a_bohr):
    """8-atom conventional rock-salt LiF cell (bohr)."""
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    frac = np.vstack([fcc, fcc + [.5, 0, 0]]) % 1.0
    return ["Li"] * 4 + ["F"] * 4, frac * a_bohr, np.eye(3) * a_bohr


def test_periodic_pairs_follow_the_simple_cubic_coordination_shells():
    """Simple cubic (one atom, edge a): 6, 12, 8, 6 neighbours at a, √2a, √3a, 2a; a half list holds
    half of them, also through a 2×2×2 supercell (8 atoms, 8× the pairs) and for a skewed but
    equivalent cell (a + b as the second vector)."""
    from ectem_core.potential.neighbours import periodic_pairs

    a = 3.0
    pos = np.zeros((1, 3))
    for cutoff, shells in ((3.1, 6), (4.3, 18), (5.3, 26), (6.1, 32)):
        pi, pj, shift = periodic_pairs(pos, np.eye(3) * a, cutoff)
        assert pi.size == shells // 2
        assert np.all(np.linalg.norm(shift, axis=1) < cutoff)
        pi, pj, _ = periodic_pairs(pos, np.array([[a, 0, 0], [a, a, 0], [0, 0, a]]), cutoff)
        assert pi.size == shells // 2
        sc = np.array([[x, y, z] for x in (0, a) for y in (0, a) for z in (0, a)])
        pi, pj, shift = periodic_pairs(sc + 0.1, np.eye(3) * 2 * a, cutoff)
        assert pi.size == 8 * shells // 2
        d = np.linalg.norm((sc + 0.1)[pi] - (sc + 0.1)[pj] - shift, axis=1)
        assert d.max() < cutoff and d.min() == pytest.approx(a)


def test_a_molecule_in_a_large_box_is_the_isolated_molecule(pot, fm):
    """Neutral atoms: every term is short ranged, the cell energy equals the cluster energy. Li⁺F⁻:
    the tin-foil Ewald energy is the isolated one minus 2π μ²/(3V) (cubic box; next order ~ L⁻⁵)."""
    L = 48.0
    pos = np.array([[20.0, 20.0, 20.0], [23.0, 20.5, 19.0]])
    system = pot.system(["Li", "F"])
    for c in (pot.ground_weights(system), _ionic(pot, system)):
        box = fm.evaluate(system, pos, c, cell=np.eye(3) * L)
        free = fm.evaluate(system, pos, c)
        q = free.charges
        mu = q @ pos
        dipole = 2.0 * np.pi * float(mu @ mu) / (3.0 * L ** 3)
        assert box.energy == pytest.approx(free.energy - dipole, abs=2e-6)
        assert box.parts["coulomb_short"] == pytest.approx(free.parts["coulomb_short"], abs=1e-13)
        assert box.parts["embedding"] == pytest.approx(free.parts["embedding"], abs=1e-13)
        if not np.any(q):
            assert box.energy == pytest.approx(free.energy, abs=1e-12)


def test_energy_is_extensive_and_the_ionic_crystal_has_the_madelung_energy(pot, fm):
    """A 2×2×2 supercell has 8× the primitive cell's energy; at integer ionic weights the long-range part
    is the rock-salt Madelung energy −M/R0 per ion pair (M = 1.747565)."""
    a = 4.03 / BOHR_ANGSTROM
    prim = np.array([[0, .5, .5], [.5, 0, .5], [.5, .5, 0]]) * a
    pos = np.array([[0, 0, 0], [.5 * a, 0, 0]])
    system = pot.system(["Li", "F"])
    c = _ionic(pot, system)
    ev1 = fm.evaluate(system, pos, c, cell=prim)
    assert ev1.parts["coulomb_long"] == pytest.approx(-1.747564594633 / (0.5 * a), rel=1e-9)
    shifts = np.array([[x, y, z] for x in range(2) for y in range(2) for z in range(2)]) @ prim
    pos8 = np.vstack([pos + s for s in shifts])
    sys8 = pot.system(["Li", "F"] * 8)
    ev8 = fm.evaluate(sys8, pos8, np.tile(c, 8), cell=2 * prim)
    assert ev8.energy == pytest.approx(8 * ev1.energy, rel=1e-10)
    assert np.abs(ev8.grad_r).max() < 1e-9   # every atom on an inversion centre
    assert np.allclose(ev8.strain, 8 * ev1.strain, rtol=1e-7, atol=1e-12)   # Ewald tol 1e-10 on E


@pytest.fixture(scope="module")
def rattled(pot):
    rng = np.random.default_rng(7)
    syms, pos, cell = _rocksalt_conventional(7.6)
    cell = cell + rng.normal(0, 0.25, (3, 3))   # triclinic
    pos = pos @ np.linalg.solve(np.eye(3) * 7.6, cell) + rng.normal(0, 0.3, pos.shape)
    system = pot.system(syms)
    return system, pos, cell, _random_weights(pot, system, rng)


def test_forces_are_the_negative_gradient_in_a_cell(fm, rattled):
    system, pos, cell, c = rattled
    ev = fm.evaluate(system, pos, c, cell=cell)
    h = 1e-5
    fd = np.zeros_like(pos)
    for i in range(len(pos)):
        for x in range(3):
            p, m = pos.copy(), pos.copy()
            p[i, x] += h
            m[i, x] -= h
            fd[i, x] = (fm.evaluate(system, p, c, False, cell).energy - fm.evaluate(system, m, c, False, cell).energy) / (2 * h)
    assert np.max(np.abs(ev.grad_r - fd)) < 1e-7 * max(1.0, np.abs(fd).max())
    assert np.abs(ev.grad_r.sum(axis=0)).max() < 1e-10   # translation invariance: no net force


def test_strain_derivative_matches_finite_strain(fm, rattled):
    system, pos, cell, c = rattled
    ev = fm.evaluate(system, pos, c, cell=cell)
    h = 1e-5
    fd = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = h / (1.0 if a == b else 2.0)   # symmetric strain, ε_ab = ε_ba
            e = [fm.evaluate(system, pos @ (np.eye(3) + s * eps), c, False, cell @ (np.eye(3) + s * eps)).energy
                 for s in (1, -1)]
            fd[a, b] = (e[0] - e[1]) / (2 * h)
    assert np.allclose(ev.strain, ev.strain.T, atol=1e-12)
    assert np.max(np.abs(ev.strain - fd)) < 1e-7 * max(1.0, np.abs(fd).max())


def test_translation_rotation_permutation_and_wrapping_leave_the_energy_unchanged(pot, fm, rattled):
    from scipy.spatial.transform import Rotation

    system, pos, cell, c = rattled
    ref = fm.evaluate(system, pos, c, cell=cell)
    moved = fm.evaluate(system, pos + [1.3, -0.7, 2.1], c, cell=cell)
    assert moved.energy == pytest.approx(ref.energy, rel=1e-12)
    Rm = Rotation.from_euler("xyz", [0.3, -1.1, 2.0]).as_matrix()
    rot = fm.evaluate(system, pos @ Rm.T, c, cell=cell @ Rm.T)
    assert rot.energy == pytest.approx(ref.energy, rel=1e-11)
    assert np.allclose(rot.grad_r, ref.grad_r @ Rm.T, atol=1e-10)
    assert np.allclose(rot.strain, Rm @ ref.strain @ Rm.T, atol=1e-10)
    perm = np.random.default_rng(3).permutation(system.n_atoms)
    syms = [system.symbols[i] for i in perm]
    cp = np.concatenate([c[system.slice(i)] for i in perm])
    pe = fm.evaluate(pot.system(syms), pos[perm], cp, cell=cell)
    assert pe.energy == pytest.approx(ref.energy, rel=1e-12)
    assert np.allclose(pe.grad_r, ref.grad_r[perm], atol=1e-11)
    wrapped = pos.copy()
    wrapped[2] += cell[0] - 2 * cell[2]
    wr = fm.evaluate(system, wrapped, c, cell=cell)
    assert wr.energy == pytest.approx(ref.energy, rel=1e-12)
    assert np.allclose(wr.grad_r, ref.grad_r, atol=1e-11)


def test_cpe_in_the_rock_salt_cell_gives_integer_ions_and_ase_reports_them(small_bundle, pot, fm):
    """LiF at a = 4.03 Å: the pure model's cell is Li⁺F⁻ (q = ±1, integer weights), and ECTEAM with
    pbc reports the same energy, the stress as (1/V) ∂E/∂ε and ASE's numerical stress agrees."""
    from ase.build import bulk
    from ase.calculators.fd import calculate_numerical_stress
    from ase.units import Bohr, Hartree  # ASE's own conversions (CODATA 2014), which the calculator uses

    from ectem_core.ase import ECTEAM
    from ectem_core.potential.cpe import solve

    atoms = bulk("LiF", "rocksalt", a=4.03)
    system = pot.system(["Li", "F"])
    res = solve(pot, system, atoms.get_positions() / Bohr, cell=np.asarray(atoms.get_cell()) / Bohr)
    assert np.allclose(res.evaluation.charges, [1.0, -1.0], atol=1e-9)
    atoms.calc = ECTEAM(str(small_bundle))
    assert atoms.get_potential_energy() == pytest.approx(res.evaluation.energy * Hartree, rel=1e-10)
    assert atoms.get_potential_energy(force_consistent=True) == pytest.approx(atoms.get_potential_energy())
    assert np.allclose(atoms.get_charges(), [1.0, -1.0], atol=1e-9)
    s = atoms.get_stress()
    assert np.allclose(s, calculate_numerical_stress(atoms, eps=1e-5), atol=1e-7)
    assert atoms.calc.results["weights"].sum() == pytest.approx(2.0)
    assert len(atoms.calc.results["mu"]) == 2


@pytest.mark.parametrize("case, needle", [
    ("zero_volume", "zero volume"),
    ("mixed_pbc", "mixed periodicity"),
    ("charged", "must be neutral"),
    ("on_image", "coincide|image"),
])
def test_bad_periodic_inputs_give_one_clear_error(small_bundle, case, needle):
    from ase import Atoms

    from ectem_core.ase import ECTEAM
    from ectem_core.errors import InputError

    kw = {}
    atoms = Atoms("LiF", positions=[[0, 0, 0], [2.0, 0, 0]], cell=np.eye(3) * 4.0, pbc=True)
    if case == "zero_volume":
        atoms.cell = [[4.0, 0, 0], [0, 4.0, 0], [4.0, 4.0, 0]]
    elif case == "mixed_pbc":
        atoms.pbc = [True, True, False]
    elif case == "charged":
        kw["total_charge"] = 1.0
    else:
        atoms.positions[1] = [4.0, 0, 0]   # F on the image of Li
    atoms.calc = ECTEAM(str(small_bundle), **kw)
    with pytest.raises(InputError, match=needle):
        atoms.get_potential_energy()


@pytest.mark.parametrize("cut", [9.5, 14.0, 25.0])   # 3, 2 and 1 bins per direction
def test_binned_periodic_pairs_equal_the_image_loop_on_a_large_skewed_cell(cut):
    """Cells at least one cut-off thick use bins (O(N)); the pairs must be exactly those of the
    O(N² · images) loop: same count, same set of (i, j, displacement)."""
    from ectem_core.potential.neighbours import _image_pairs, periodic_pairs

    rng = np.random.default_rng(5)
    cell = np.diag([31.0, 33.0, 36.0]) + rng.normal(0, 1.0, (3, 3))
    pos = rng.uniform(0, 1, (300, 3)) @ cell + rng.normal(0, 20.0, (300, 3))   # not wrapped
    pi, pj, sh = periodic_pairs(pos, cell, cut)
    frac = np.linalg.solve(cell.T, pos.T).T
    whole = np.floor(frac)
    vol = abs(np.linalg.det(cell))
    h = [vol / np.linalg.norm(np.cross(cell[(a + 1) % 3], cell[(a + 2) % 3])) for a in range(3)]
    nmax = np.array([int(cut / x) + 1 for x in h], dtype=np.int64)
    m = _image_pairs(np.ascontiguousarray(frac - whole), cell, nmax, cut, False, np.zeros(0, np.int64),
                     np.zeros(0, np.int64), np.zeros((0, 3)))
    bi, bj, bs = np.empty(m, np.int64), np.empty(m, np.int64), np.empty((m, 3))
    _image_pairs(np.ascontiguousarray(frac - whole), cell, nmax, cut, True, bi, bj, bs)
    bs += (whole[bi] - whole[bj]) @ cell

    def key(i, j, s):
        return {(a, b, tuple(np.round(pos[a] - pos[b] - x, 6))) for a, b, x in zip(i, j, s)}

    assert pi.size == m > 1000
    assert key(pi, pj, sh) == key(bi, bj, bs)


def test_fixed_weight_path_equals_the_fast_model(pot, fm, rattled):
    """potential.fixed (active state pairs only, full list, parallel over atoms) against FastModel:
    energy, forces, strain and ρ̄ at fixed fractional weights (pure variant) and at the ionic vertex."""
    from ectem_core.potential.fixed import FixedWeights

    system, pos, cell, c = rattled
    for w in (c, _ionic(pot, system)):
        for cl in (cell, None):
            ref = fm.evaluate(system, pos, w, cell=cl)
            fw = FixedWeights(fm, system, w)
            fw.evaluate(pos + 0.3, cell=cl)
            got = fw.evaluate(pos, cell=cl)        # a Verlet list built 0.3 bohr away is rebuilt (> skin/2)
            again = fw.evaluate(pos + 0.05, cell=cl)  # ... and reused within it
            assert fw.list_builds == 2
            assert again.energy == pytest.approx(fm.evaluate(system, pos + 0.05, w, cell=cl).energy, rel=1e-12)
            assert got.energy == pytest.approx(ref.energy, rel=1e-12)
            assert np.allclose(got.grad_r, ref.grad_r, atol=1e-12)
            assert np.allclose(got.strain, ref.strain, atol=1e-11)
            assert np.allclose(got.rho_bar, ref.rho_bar, atol=1e-13)


@pytest.mark.parametrize("repeat, cutoff", [(3, 13.0), (5, 7.0), (6, 13.0)])
def test_binned_search_finds_every_image_pair_once(repeat, cutoff):
    """The binned search of large cells (bins of cutoff/2, images through the stencil wrap) gives the same
    set of (i, j, image) pairs as the direct image enumeration, each once, on a sheared rattled
    rock-salt supercell with atoms outside the cell."""
    from ectem_core.potential.neighbours import _count_then_store, _image_pairs, periodic_pairs

    rng = np.random.default_rng(repeat)
    a = 7.94
    base = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    frac = np.vstack([base, base + [.5, 0, 0]])
    frac = np.vstack([(frac + [x, y, z]) / repeat for x in range(repeat) for y in range(repeat) for z in range(repeat)])
    cell = a * repeat * np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.05], [0.02, 0.0, 1.0]])
    pos = frac @ cell + rng.normal(0, 0.3, frac.shape) + 2.0
    assert len(pos) > 64
    pi, pj, shift = periodic_pairs(pos, cell, cutoff)
    f = np.linalg.solve(cell.T, pos.T).T
    whole = np.floor(f)
    vol = abs(np.linalg.det(cell))
    h = [vol / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3])) for k in range(3)]
    ri, rj, rs = _count_then_store(_image_pairs, np.ascontiguousarray(f - whole), cell,
                                   np.array([int(cutoff / x) + 1 for x in h], dtype=np.int64), cutoff)
    rs = rs + (whole[ri] - whole[rj]) @ cell
    got = list(zip(pi.tolist(), pj.tolist(), map(tuple, np.round(shift, 6).tolist())))
    want = set(zip(ri.tolist(), rj.tolist(), map(tuple, np.round(rs, 6).tolist())))
    assert len(got) == len(set(got)) and set(got) == want
    assert np.linalg.norm(pos[pi] - pos[pj] - shift, axis=1).max() < cutoff
