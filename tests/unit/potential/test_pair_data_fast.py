"""potential.pair_data_fast (cut-off FastModel.pair_data on uniform-grid tables) on the real small bundle:
every pair-data array against the exact-table kernel (kernels.pair_data_kernel) on a rattled LiF cell and
random clusters, FastModel energy, dE/dc, forces and strain against the same model evaluated on the
exact-table arrays, forces as minus finite differences of the new energy, and the reuse of the output
block. Expected values come from the exact path or finite differences. No timings."""
from __future__ import annotations

import copy

import numpy as np
import pytest

BOUND = 1e-10   # the accuracy contract against the exact-table path (relative, or scaled by the largest value)
NAMES = ("R", "u", "boff", "Kij", "Kji", "dKij", "dKji", "Us", "dUs", "sres", "dsres", "tau", "dtau")


@pytest.fixture(scope="module")
def models(small_bundle):
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import fast_model

    out = {v: fast_model(load_potential(small_bundle, variant=v), cutoff_tol=1e-6, r_max=12.0)
           for v in ("pure", "resonance", "thermal")}
    out["point"] = fast_model(load_potential(small_bundle, background="point"), cutoff_tol=1e-6, r_max=12.0)
    out["proton"] = fast_model(load_potential(small_bundle, proton=True), cutoff_tol=1e-6, r_max=12.0)
    return out


def _ionic(pot, system):
    c = np.zeros(system.offsets[-1])
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        c[system.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
    return c


def _fractional(pot, system, rng):
    """Random fractional weights projected onto the neutral feasible set."""
    from ectem_core.potential.cpe import _constraints
    from ectem_core.potential.simplex import project

    c = np.concatenate([rng.dirichlet(np.ones(len(pot.elements[k].state_ids))) for k in system.element_index])
    A, b = _constraints(pot, system, 0.0)
    return project(c, A, b)


def _weights(pot, system, kind):
    return {"neutral": lambda: pot.ground_weights(system), "ionic": lambda: _ionic(pot, system),
            "fractional": lambda: _fractional(pot, system, np.random.default_rng(7))}[kind]()


def _cell(pot):
    """Conventional rock-salt LiF cell (8 atoms), triclinic and rattled (bohr)."""
    rng = np.random.default_rng(11)
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    frac = np.vstack([fcc, fcc + [.5, 0, 0]]) % 1.0
    cell = np.eye(3) * 7.6 + rng.normal(0, 0.25, (3, 3))
    pos = frac @ cell + rng.normal(0, 0.3, (8, 3))
    return pot.system(["Li"] * 4 + ["F"] * 4), pos, cell


def _cluster(pot, symbols=("Li", "F"), n=10, seed=4):
    """Random cluster of n atoms (bohr), no two closer than 3 bohr."""
    rng = np.random.default_rng(seed)
    pos = []
    while len(pos) < n:
        x = rng.uniform(0.0, 9.0, 3)
        if all(np.linalg.norm(x - y) > 3.0 for y in pos):
            pos.append(x)
    syms = [symbols[i % len(symbols)] for i in range(n)]
    return pot.system(syms), np.array(pos), None


def _exact(fm, pd):
    """The same PairData with the exact-table arrays (kernels.pair_data_kernel)."""
    from ectem_core.potential.kernels import pair_data_kernel

    elem, woff = pd.sysd[0], pd.sysd[1]
    ref = copy.copy(pd)
    ref.arrays = pair_data_kernel(pd.positions, pd.shift, elem, woff, pd.pi, pd.pj, fm.tabs, fm.el, fm.pair_opts)
    return ref


def _scaled_err(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-300)) if want.size else 0.0


def _compare(fm, system, pos, cell, c):
    """Pair-data arrays and FastModel.evaluate_data on uniform vs exact tables, to BOUND."""
    pd = fm.pair_data(system, pos, cell)
    ref = _exact(fm, pd)
    for name, a, b in zip(NAMES, pd.arrays, ref.arrays):
        assert a.shape == b.shape, name
        assert _scaled_err(a, b) <= BOUND, name
    got, want = fm.evaluate_data(pd, c), fm.evaluate_data(ref, c)
    assert got.energy == pytest.approx(want.energy, rel=BOUND)
    for part, v in want.parts.items():
        assert got.parts[part] == pytest.approx(v, rel=BOUND, abs=BOUND * abs(want.energy)), part
    for a, b in ((got.grad_c, want.grad_c), (got.grad_r, want.grad_r), (got.strain, want.strain),
                 (got.rho_bar, want.rho_bar)):
        assert _scaled_err(a, b) <= BOUND
    assert np.allclose(got.charges, want.charges, atol=1e-15)


@pytest.mark.parametrize("variant", ["pure", "resonance", "thermal"])
@pytest.mark.parametrize("weights", ["neutral", "ionic", "fractional"])
def test_uniform_pair_data_equals_the_exact_tables_in_a_cell(models, variant, weights):
    fm = models[variant]
    system, pos, cell = _cell(fm.model)
    _compare(fm, system, pos, cell, _weights(fm.model, system, weights))


@pytest.mark.parametrize("variant", ["pure", "resonance", "thermal"])
@pytest.mark.parametrize("weights", ["neutral", "ionic", "fractional"])
def test_uniform_pair_data_equals_the_exact_tables_in_a_cluster(models, variant, weights):
    fm = models[variant]
    system, pos, _ = _cluster(fm.model)
    _compare(fm, system, pos, None, _weights(fm.model, system, weights))


@pytest.mark.parametrize("model", ["pure", "point", "proton"])
def test_hydrogen_point_background_and_bare_proton(models, model):
    """H, Li and F: point-density kernels (point background; H⁺ without electrons) stay exact, and the
    ground-state overlap of the resonance coupling comes from the S table where K_ij is not S/N."""
    fm = models[model]
    system, pos, _ = _cluster(fm.model, ("H", "Li", "F"), n=9, seed=6)
    for kind in ("neutral", "fractional"):
        _compare(fm, system, pos, None, _weights(fm.model, system, kind))


def test_forces_and_strain_are_derivatives_of_the_uniform_energy(models):
    fm = models["resonance"]
    system, pos, cell = _cell(fm.model)
    c = _weights(fm.model, system, "fractional")
    ev = fm.evaluate(system, pos, c, cell=cell)
    h = 1e-5

    def energy(p, cl=cell, w=c):
        return fm.evaluate(system, p, w, cell=cl, want_forces=False).energy

    fd = np.zeros_like(pos)
    for i in range(len(pos)):
        for x in range(3):
            d = np.zeros_like(pos)
            d[i, x] = h
            fd[i, x] = (energy(pos + d) - energy(pos - d)) / (2 * h)
    assert np.abs(ev.grad_r - fd).max() < 1e-7 * max(1.0, np.abs(fd).max())
    fs = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = h / (1.0 if a == b else 2.0)
            e = [energy(pos @ (np.eye(3) + s * eps), cell @ (np.eye(3) + s * eps)) for s in (1, -1)]
            fs[a, b] = (e[0] - e[1]) / (2 * h)
    assert np.abs(ev.strain - fs).max() < 1e-7 * max(1.0, np.abs(fs).max())


def test_the_output_block_is_reused_only_when_free(models):
    """Arrays of a PairData still alive are never overwritten by the next call; a dropped one's block is reused."""
    fm = models["pure"]
    system, pos, cell = _cell(fm.model)
    first = fm.pair_data(system, pos, cell)
    keep = [a.copy() for a in first.arrays]
    second = fm.pair_data(system, pos + 0.05, cell)
    assert not np.shares_memory(first.arrays[3], second.arrays[3])
    for a, b in zip(first.arrays, keep):
        assert np.array_equal(a, b)
    block = id(second.arrays[3].base)
    del second
    third = fm.pair_data(system, pos, cell)
    assert id(third.arrays[3].base) == block
    for a, b in zip(third.arrays, keep):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("geometry", ["cell", "cluster"])
def test_verlet_candidates_give_the_pairs_of_a_fresh_search(models, geometry):
    """pair_data reuses its candidate list (cut-off + 1 bohr skin) while atoms stay within half the
    skin and rebuilds it beyond: in both cases the pairs within the cut-off are those a brute-force
    image search finds, and the energy equals that of a model with no list to reuse."""
    from ectem_core.potential.fastmodel import FastModel

    fm = models["pure"]
    system, pos, cell = _cell(fm.model) if geometry == "cell" else _cluster(fm.model)
    c = _weights(fm.model, system, "fractional")
    rng = np.random.default_rng(5)
    for step in (0.0, 0.05, 0.2, 1.5):           # within half the skin twice, then beyond it
        moved = pos + rng.normal(0.0, step / 3.0, pos.shape) if step else pos
        pd = fm.pair_data(system, moved, cell)
        elem = np.asarray(system.element_index)
        shifts = [np.zeros(3)] if cell is None else [np.array([a, b, d]) @ cell for a in range(-3, 4)
                                                     for b in range(-3, 4) for d in range(-3, 4)]
        want = set()
        for i in range(system.n_atoms):
            for j in range(system.n_atoms):
                for k, s in enumerate(shifts):
                    if (i, j, k) == (i, i, len(shifts) // 2 if cell is not None else 0):
                        continue
                    r = np.linalg.norm(moved[i] - moved[j] - s)
                    if r < fm.rcut[elem[i], elem[j]] and (i < j or (i == j and r > 0) or i > j):
                        want.add((min(i, j), max(i, j), round(float(r), 9)))
        got = {(min(i, j), max(i, j), round(float(r), 9)) for i, j, r in zip(pd.pi, pd.pj, pd.arrays[0])}
        assert got == want
        fresh = FastModel(fm.model, cutoff_tol=1e-6, r_max=12.0)
        e_fresh = fresh.evaluate(system, moved, c, cell=cell).energy
        assert fm.evaluate_data(pd, c).energy == pytest.approx(e_fresh, rel=1e-12)
