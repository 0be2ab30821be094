"""potential.fixed on uniform-grid tables (potential.uniform_tables), on the real small bundle: the exact
one-sided values and derivatives the resampling starts from against the table kernel (`kernels._tab`) and
finite differences; the resampled functions against those exact ones; FixedWeights against the exact-table
path FastModel.evaluate (neutral, ionic and fractional weights, clusters and cells, both backgrounds, both
component modes); forces and strain against finite differences of its own energy; the half neighbour
list and the per-thread chunks. No timings."""
from __future__ import annotations

import numpy as np
import pytest

BOUND = 1e-10   # the accuracy contract against the exact-table path (relative, or scaled by the largest value)


@pytest.fixture(scope="module")
def pot(small_bundle):
    from ectem_core.potential import load_potential

    return load_potential(small_bundle)


@pytest.fixture(scope="module")
def fm(pot):
    from ectem_core.potential.fastmodel import fast_model

    return fast_model(pot, cutoff_tol=1e-6, r_max=12.0)


@pytest.fixture(scope="module")
def fm_point(small_bundle):
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import fast_model

    return fast_model(load_potential(small_bundle, background="point"), cutoff_tol=1e-6, r_max=12.0)


def _element(pot, symbol):
    return next(k for k, e in enumerate(pot.elements) if e.symbol == symbol)


def _ionic(pot, system):
    c = np.zeros(system.offsets[-1])
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        c[system.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
    return c


def _per_element(pot, system):
    """The same fractional weights on every Li (q = +0.3) and every F (q = −0.3): one type per element."""
    li, f = pot.elements[_element(pot, "Li")], pot.elements[_element(pot, "F")]
    wl = np.zeros(len(li.state_ids))
    wl[li.ground], wl[li.cation], wl[li.anion] = 0.6, 0.35, 0.05
    wf = np.zeros(len(f.state_ids))
    wf[f.ground], wf[f.anion], wf[f.cation] = 0.6, 0.35, 0.05
    assert wl @ li.charge == pytest.approx(0.3) and wf @ f.charge == pytest.approx(-0.3)
    return np.concatenate([wl if s == "Li" else wf for s in system.symbols])


def _random(pot, system, rng):
    """Fractional weights, different on every atom, projected onto the neutral feasible set."""
    from ectem_core.potential.cpe import _constraints
    from ectem_core.potential.simplex import project

    c = np.concatenate([rng.dirichlet(np.ones(len(pot.elements[k].state_ids))) for k in system.element_index])
    A, b = _constraints(pot, system, 0.0)
    return project(c, A, b)


@pytest.fixture(scope="module")
def rattled(pot):
    """Conventional rock-salt LiF cell (8 atoms), triclinic and rattled (bohr)."""
    rng = np.random.default_rng(11)
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    frac = np.vstack([fcc, fcc + [.5, 0, 0]]) % 1.0
    cell = np.eye(3) * 7.6 + rng.normal(0, 0.25, (3, 3))
    pos = frac @ cell + rng.normal(0, 0.3, (8, 3))
    system = pot.system(["Li"] * 4 + ["F"] * 4)
    return system, pos, cell, rng


# ----------------------------------------------------------------------------- the exact source values
def _used_tables(fm, pot):
    """Flat-table ids of every Li/F state pair's S, U and ρ tables, by kind (LOG, COULOMB)."""
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = fm.tabs
    ks = [_element(pot, "Li"), _element(pot, "F")]
    ids = set()
    for a in ks:
        for b in ks:
            na, nb = len(pot.elements[a].state_ids), len(pot.elements[b].state_ids)
            ids |= {int(Sid[a, b, s, t]) for s in range(na) for t in range(nb)}
            ids |= {int(Uid[a, b, s, t]) for s in range(na) for t in range(nb)}
            ids |= {int(rhoid[b, t]) for t in range(nb)}
    return sorted(ids)


def test_exact_source_values_are_the_table_kernel_and_its_derivatives(fm, pot):
    """source_derivs (f, f', f'' of every kind: LOG S (quintic) and ρ (cubic), COULOMB U − qq/R, and the
    beyond-the-end continuations) equals kernels._tab in f and f'; f'' is the central difference of f'."""
    from ectem_core.potential.kernels import _tab
    from ectem_core.potential.uniform_tables import source_derivs

    knots, kstart, coefs, cstart, meta = fm.tabs[:5]
    rng = np.random.default_rng(0)
    kinds = set()
    for tid in _used_tables(fm, pot):
        kind, r0, r1 = int(meta[tid, 0]), meta[tid, 2], meta[tid, 3]
        kinds.add(kind)
        R = np.sort(rng.uniform(r0, 1.15 * r1, 60))
        short = kind == 2
        f, f1, f2 = source_derivs(fm.tabs, tid, R, short)
        ref = np.array([_tab(tid, r, knots, kstart, coefs, cstart, meta, short) for r in R])
        assert np.allclose(f, ref[:, 0], rtol=1e-13, atol=1e-300)
        assert np.allclose(f1, ref[:, 1], rtol=1e-12, atol=1e-15 * np.abs(ref[:, 1]).max())
        # f'' by central differences of f', away from knots (the cubic ρ tables are C¹ only)
        kn = knots[kstart[tid]:kstart[tid + 1]]
        h = 1e-5
        far = np.min(np.abs(R[:, None] - kn[None, :]), axis=1) > 3 * h
        d2 = (source_derivs(fm.tabs, tid, R + h, short)[1] - source_derivs(fm.tabs, tid, R - h, short)[1]) / (2 * h)
        assert np.allclose(f2[far], d2[far], rtol=1e-5, atol=1e-6 * np.abs(f2).max())
    assert kinds >= {1, 2}


def test_the_plain_kind_and_the_one_sided_limits():
    """A PLAIN table of sin R (dense Hermite data, one flat table): f, f', f'' are sin, cos, −sin; at the
    table end the left limit is the polynomial and the right one 0 (PLAIN), as kernels._tab."""
    from ectem_core.potential.pair_tables import PLAIN, _table_from
    from ectem_core.potential.uniform_tables import source_derivs

    x = np.linspace(0.2, 6.0, 600)
    t = _table_from(x, np.sin(x), np.cos(x), -np.sin(x), PLAIN, 0.0, 5, 0.0, 0)
    tabs = (t.knots, np.array([0, t.knots.size]), t.coefs, np.array([0, t.coefs.shape[0]]), t.meta[None, :])
    R = np.linspace(0.3, 5.9, 97)
    f, f1, f2 = source_derivs(tabs, 0, R, False)
    assert np.allclose(f, np.sin(R), atol=1e-12) and np.allclose(f1, np.cos(R), atol=1e-10)
    assert np.allclose(f2, -np.sin(R), atol=1e-7)
    left = source_derivs(tabs, 0, [6.0], False, left=True)
    right = source_derivs(tabs, 0, [6.0], False, left=False)
    assert left[0][0] == pytest.approx(np.sin(6.0), abs=1e-12) and right[0][0] == 0.0


# ----------------------------------------------------------------------------- the resampled tables
def _components(pot):
    li, f = _element(pot, "Li"), _element(pot, "F")
    eli, ef = pot.elements[li], pot.elements[f]
    return {"neutral": [(li, ((eli.ground, 1.0),)), (f, ((ef.ground, 1.0),))],
            "ionic": [(li, ((eli.cation, 1.0),)), (f, ((ef.anion, 1.0),))],
            "fractional": [(li, ((eli.ground, 0.6), (eli.cation, 0.35), (eli.anion, 0.05))),
                           (f, ((ef.ground, 0.6), (ef.anion, 0.35), (ef.cation, 0.05)))]}


@pytest.mark.parametrize("background", ["overlap", "point"])
def test_resampled_tables_reproduce_the_source_tables(fm, fm_point, pot, background):
    """KA, KB and U^sr of every component pair (switch folded in) at random R from R_min to past the end:
    values and dR-derivatives within BOUND of the largest |f| (|f'|) at R ≥ R_REF, and within BOUND of
    the largest over [R/2, 2R] closer in; exactly 0 beyond the end; (b, a) swaps KA and KB. With the
    point background the ρ kernels are the source tables themselves (evaluated on the fly)."""
    from ectem_core.potential.uniform_tables import R_REF, UniformTables, pair_functions

    model = fm if background == "overlap" else fm_point
    rng = np.random.default_rng(1)
    for name, comps in _components(pot).items():
        if background == "point" and name == "fractional":   # ρ kernels stay exact: single states only
            with pytest.raises(ValueError, match="single-state"):
                UniformTables(model, comps)
            continue
        ut = UniformTables(model, comps)
        assert max(ut.errors) < BOUND
        for a in range(2):
            for b in range(a, 2):
                q = ut.cpid[a, b]
                end = ut.r_end[q]
                R = np.concatenate([rng.uniform(0.2, end, 1500), ut.seg_lo[q, :ut.nseg[q]],   # and every segment start
                                    np.nextafter(ut.seg_lo[q, 1:ut.nseg[q]], 0.0), rng.uniform(end, end + 1.0, 20), [end]])
                got = ut(a, b, R)
                ex = pair_functions(model, comps[a], comps[b], R)[:, :2]
                grid = np.linspace(R_REF, end, 2000)
                far = np.abs(pair_functions(model, comps[a], comps[b], grid)[:, :2]).max(axis=2)
                inner = R[R < R_REF]
                windows = np.linspace(inner / 2, np.minimum(2 * inner, end), 40).T.ravel()
                near = np.abs(pair_functions(model, comps[a], comps[b], windows)[:, :2]).reshape(3, 2, inner.size, 40)
                near = near.max(axis=3)
                for m in range(3):
                    for d in range(2):
                        scale = np.full(R.size, far[m, d])
                        scale[R < R_REF] = np.maximum(near[m, d], far[m, d])
                        err = np.abs(got[m, d] - ex[m, d])
                        assert np.all(err <= BOUND * scale), (name, a, b, m, d, float((err / scale).max()))
                assert np.all(got[:, :, R >= end] == 0.0)
                assert np.all(ex[:, :, R >= end] == 0.0)
                if a < b:
                    swapped = ut(b, a, R)
                    assert np.array_equal(swapped[0], got[1]) and np.array_equal(swapped[1], got[0])
                    assert np.array_equal(swapped[2], got[2])


# ----------------------------------------------------------------------------- FixedWeights vs the exact path
def _compare(got, ref):
    assert got.energy == pytest.approx(ref.energy, rel=BOUND)
    for part in ("coulomb_short", "coulomb_long"):
        assert got.parts[part] == pytest.approx(ref.parts[part], rel=BOUND, abs=BOUND * abs(ref.energy))
    assert np.abs(got.grad_r - ref.grad_r).max() <= BOUND * np.abs(ref.grad_r).max()
    assert np.abs(got.strain - ref.strain).max() <= BOUND * np.abs(ref.strain).max()
    assert np.abs(got.rho_bar - ref.rho_bar).max() <= BOUND * np.abs(ref.rho_bar).max()
    assert np.allclose(got.charges, ref.charges, atol=1e-15)


@pytest.mark.parametrize("weights", ["neutral", "ionic", "per_element", "random"])
def test_fixed_weights_equal_the_exact_table_path(fm, pot, rattled, weights):
    """Energy, forces, strain, ρ̄ against FastModel.evaluate, in the cell and as a cluster. "per_element"
    is one fractional type per element (one component each); "random" has 8 distinct weight vectors, so
    the components are the 7 single states and the kernel sums over the active state pairs."""
    from ectem_core.potential.fixed import FixedWeights

    system, pos, cell, _ = rattled
    c = {"neutral": lambda: pot.ground_weights(system), "ionic": lambda: _ionic(pot, system),
         "per_element": lambda: _per_element(pot, system),
         "random": lambda: _random(pot, system, np.random.default_rng(3))}[weights]()
    fw = FixedWeights(fm, system, c)
    assert len(fw.tables.comps) == (7 if weights == "random" else 2)
    for cl in (cell, None):
        _compare(fw.evaluate(pos, cell=cl), fm.evaluate(system, pos, c, cell=cl))


def test_point_background_and_a_bare_proton_in_a_cluster(fm_point, small_bundle):
    """H, Li and F in a cluster, neutral and at random fractional weights: with the point background
    (ρ tables) and with the bare proton H⁺ (no electrons: it sees ρ, not S/N)."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights

    rng = np.random.default_rng(5)
    pos = np.array([[0.0, 0.0, 0.0], [3.1, 0.4, 0.0], [0.3, 3.4, 0.5], [3.0, 3.3, -0.4], [1.4, 1.6, 2.9],
                    [-1.6, 1.5, 2.4], [4.6, 1.2, 2.8], [1.8, -2.6, 1.9], [2.2, 5.6, 2.6]]) * 1.05
    syms = ["H", "Li", "F"] * 3
    proton = fast_model(load_potential(small_bundle, proton=True), cutoff_tol=1e-6, r_max=12.0)
    assert any(n == 0 for e in proton.model.elements for n in e.n_electrons)
    for model in (fm_point, proton):
        pot = model.model
        system = pot.system(syms)
        for c in (pot.ground_weights(system), _random(pot, system, rng)):
            _compare(FixedWeights(model, system, c).evaluate(pos), model.evaluate(system, pos, c))


# ----------------------------------------------------------------------------- derivatives of its own energy
@pytest.mark.parametrize("weights", ["ionic", "per_element"])
def test_forces_and_strain_are_derivatives_of_the_new_energy(fm, pot, rattled, weights):
    from ectem_core.potential.fixed import FixedWeights

    system, pos, cell, _ = rattled
    c = _ionic(pot, system) if weights == "ionic" else _per_element(pot, system)
    fw = FixedWeights(fm, system, c)
    ev = fw.evaluate(pos, cell=cell)
    h = 1e-5
    fd = np.zeros_like(pos)
    for i in range(len(pos)):
        for x in range(3):
            e = []
            for s in (1, -1):
                p = pos.copy()
                p[i, x] += s * h
                e.append(fw.evaluate(p, cell=cell, want_forces=False).energy)
            fd[i, x] = (e[0] - e[1]) / (2 * h)
    assert np.max(np.abs(ev.grad_r - fd)) < 1e-7 * max(1.0, np.abs(fd).max())
    assert np.abs(ev.grad_r.sum(axis=0)).max() < 1e-10
    fs = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = h / (1.0 if a == b else 2.0)
            e = [fw.evaluate(pos @ (np.eye(3) + s * eps), cell=cell @ (np.eye(3) + s * eps), want_forces=False).energy
                 for s in (1, -1)]
            fs[a, b] = (e[0] - e[1]) / (2 * h)
    assert np.allclose(ev.strain, ev.strain.T, atol=1e-12)
    assert np.max(np.abs(ev.strain - fs)) < 1e-7 * max(1.0, np.abs(fs).max())


# ----------------------------------------------------------------------------- list and chunks
def test_the_half_list_holds_every_pair_once(fm, pot, rattled):
    """Every image pair within r_cut + SKIN of a brute-force image loop appears once, either as (i, j, s)
    or as its mirror (j, i, −s), never both; CSR rows follow atom order."""
    from ectem_core.potential.fixed import FixedWeights

    system, pos, cell, _ = rattled
    fw = FixedWeights(fm, system, pot.ground_weights(system))
    start, nbr, sh = fw._neighbours(pos, cell)
    assert start[0] == 0 and start[-1] == nbr.size and np.all(np.diff(start) >= 0)
    rc = float(fm.rcut.max()) + fw.SKIN
    mine = {}
    for i in range(system.n_atoms):
        for p in range(start[i], start[i + 1]):
            key = (i, int(nbr[p]), tuple(np.round(sh[p], 6)))
            mirror = (int(nbr[p]), i, tuple(np.round(-sh[p], 6) + 0.0))
            assert key not in mine and mirror not in mine
            mine[key] = np.linalg.norm(pos[i] - pos[nbr[p]] - sh[p])
    brute = set()
    span = range(-4, 5)
    for i in range(system.n_atoms):
        for j in range(system.n_atoms):
            for n in np.array([[a, b, c] for a in span for b in span for c in span]):
                s = n @ cell
                d = np.linalg.norm(pos[i] - pos[j] - s)
                if 1e-9 < d < rc - 1e-9:
                    brute.add((i, j, tuple(np.round(s, 6) + 0.0)))
    both = set(mine) | {(j, i, tuple(np.round(-np.array(s), 6) + 0.0)) for i, j, s in mine}
    assert brute <= both
    assert all(d < rc + 1e-9 for d in mine.values())


def test_chunking_does_not_change_the_result(fm, pot, rattled):
    """The kernel split into 1, 2, 3 or 8 chunks (per-thread buffers) gives the same numbers."""
    from ectem_core.potential.fixed import FixedWeights, _chunks, _short_range

    system, pos, cell, _ = rattled
    fw = FixedWeights(fm, system, _per_element(pot, system))
    start, nbr, sh = fw._neighbours(pos, cell)
    out = []
    for nch in (1, 2, 3, 8):
        chunk = _chunks(start, nch)
        assert chunk[0] == 0 and chunk[-1] == system.n_atoms and np.all(np.diff(chunk) >= 0)
        out.append(_short_range(pos, sh, start, nbr, chunk, fw.comp_off, fw.comp_id, fw.comp_w, fw.tables.packed,
                                fw.act_off, fw.act_state, fw.act_w, fw.elem, fm.el, True))
    for o in out[1:]:
        assert o[0] == pytest.approx(out[0][0], rel=1e-13) and o[1] == pytest.approx(out[0][1], rel=1e-13)
        for k in (2, 3, 4):
            assert np.allclose(o[k], out[0][k], rtol=1e-12, atol=1e-14 * np.abs(out[0][k]).max())


@pytest.mark.parametrize("mesh_tol", [1e-4, 1e-7])
def test_mesh_long_range_on_the_verlet_list_is_the_ewald_sum_to_tol(pot, mesh_tol):
    """FixedWeights with long_range='pme' (real space on its own Verlet list, r_cut = the list's reach)
    against the Ewald sum at 1e-12: energy, forces and strain within mesh_tol, on a freshly built list
    and on the same list reused after every atom moved 0.1 bohr."""
    from ase.build import bulk
    from ase.units import Bohr

    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights

    at = bulk("LiF", "rocksalt", a=4.1, cubic=True).repeat((2, 2, 2))
    at.rattle(0.05, seed=2)
    system = pot.system(at.get_chemical_symbols())
    pos, cell = at.get_positions() / Bohr, np.asarray(at.get_cell()) / Bohr
    c = _ionic(pot, system)
    exact = FixedWeights(fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range="ewald", ewald_tol=1e-12), system, c)
    mesh = FixedWeights(fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range="pme", mesh_tol=mesh_tol), system, c)
    shift = np.random.default_rng(3).normal(size=pos.shape)
    shift *= 0.1 / np.linalg.norm(shift, axis=1)[:, None]    # 0.1 bohr each: the list is kept
    for x in (pos, pos + shift):
        want, got = exact.evaluate(x, cell=cell), mesh.evaluate(x, cell=cell)
        assert abs(got.energy - want.energy) <= mesh_tol * abs(want.energy)
        assert np.abs(got.grad_r - want.grad_r).max() <= mesh_tol * np.abs(want.grad_r).max()
        assert np.abs(got.strain - want.strain).max() <= mesh_tol * abs(want.energy)
    assert mesh.list_builds == 1


def test_mesh_long_range_of_a_cluster_is_the_direct_sum_to_tol(pot):
    """FixedWeights on an open LiF cluster with long_range='pme' (free-space mesh, real space folded into the
    U tables) against the direct Coulomb sum: energy and forces within mesh_tol."""
    from ase.build import bulk
    from ase.units import Bohr

    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights

    at = bulk("LiF", "rocksalt", a=4.1, cubic=True).repeat((2, 2, 2))
    at.rattle(0.1, seed=4)
    system = pot.system(at.get_chemical_symbols())
    pos = at.get_positions() / Bohr
    c = _ionic(pot, system)
    want = FixedWeights(fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range="direct"), system, c).evaluate(pos)
    got = FixedWeights(fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range="pme", mesh_tol=1e-7), system, c).evaluate(pos)
    assert abs(got.energy - want.energy) <= 1e-7 * abs(want.energy)
    assert np.abs(got.grad_r - want.grad_r).max() <= 1e-7 * np.abs(want.grad_r).max()
    assert abs(got.parts["coulomb_long"] - want.parts["coulomb_long"]) > 1e-3 * abs(want.parts["coulomb_long"])  # folded
