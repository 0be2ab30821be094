"""Particle-mesh Ewald (ectem_core.potential.pme) for periodic cells and open clusters. Expected
values come from physics: Madelung constants from the literature, the Ewald sum of ewald.py at
tol = 1e-12, the direct sum Σ q_i q_j / r, finite differences of the PME energy itself."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.potential.ewald import ewald_energy, ewald_setup
from ectem_core.potential.kernels import long_range, long_range_direct
from ectem_core.potential.long_range import MESH, choose_method, long_range_data
from ectem_core.potential.pme import fft_size, pme_energy, pme_parameters, pme_setup

# Madelung constants per nearest cation-anion distance (OEIS A085469, A181152; zinc blende as in test_ewald.py)
M_NACL = 1.7475645946331822
M_CSCL = 1.7626747730709884
M_ZNS = 1.63805505338879
FCC = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])


def binary_crystal(name: str, a: float = 7.6):
    """Conventional cubic cell (bohr) of rock salt, CsCl or zinc blende: positions, cell, charges,
    formula units, nearest cation-anion distance R0 and the Madelung constant."""
    if name == "rocksalt":
        frac, r0, M = np.vstack([FCC, FCC + [0.5, 0.0, 0.0]]) % 1.0, 0.5 * a, M_NACL
    elif name == "cscl":
        frac, r0, M = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]), math.sqrt(3.0) / 2 * a, M_CSCL
    else:
        frac, r0, M = np.vstack([FCC, FCC + 0.25]), math.sqrt(3.0) / 4 * a, M_ZNS
    units = len(frac) // 2
    q = np.array([1.0] * units + [-1.0] * units)
    return frac * a, np.eye(3) * a, q, units, r0, M


def random_cell(seed: int = 5, n: int = 8, min_distance: float = 1.6):
    """Random triclinic cell (about 7.5 bohr edges), atoms no closer than min_distance (images
    included), random neutral charges."""
    rng = np.random.default_rng(seed)
    cell = 7.5 * (np.eye(3) + 0.25 * rng.uniform(-1.0, 1.0, (3, 3)))
    shifts = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T
    frac = []
    while len(frac) < n:
        f = rng.uniform(0.0, 1.0, 3)
        if all(np.linalg.norm((f - g - np.round(f - g) + shifts) @ cell, axis=1).min() >= min_distance for g in frac):
            frac.append(f)
    q = rng.normal(size=n)
    return np.array(frac) @ cell, cell, q - q.mean()


def random_cluster(seed: int = 3, n: int = 40, box: float = 14.0, min_distance: float = 1.8):
    rng = np.random.default_rng(seed)
    pos = []
    while len(pos) < n:
        x = rng.uniform(0.0, box, 3)
        if all(np.linalg.norm(x - y) >= min_distance for y in pos):
            pos.append(x)
    q = rng.normal(size=n)
    return np.array(pos), q - q.mean()


def direct(pos, q):
    """Σ_{i<j} q_i q_j / r with φ, gradient and the strain derivative Σ_pairs (dE/dr) d⊗d / r."""
    grad, strain = np.zeros_like(pos), np.zeros((3, 3))
    e, phi = long_range_direct(pos, q, True, grad, strain)
    return e, phi, grad, np.triu(strain) + np.triu(strain, 1).T


def rel_max(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(b).max())


# ----------------------------------------------------------------------------- parameters
def test_fft_sizes_and_parameter_rule():
    assert [fft_size(n) for n in (1, 7, 11, 49, 97, 121)] == [1, 8, 12, 50, 100, 125]
    a, rc, h, p = pme_parameters(1e-6)
    assert math.erfc(a * rc) < 1e-6 and rc == 10.0 and p % 2 == 0 and 0 < h < 2.0
    assert pme_parameters(1e-6, periodic=False)[1] == 16.0
    assert pme_parameters(1e-8)[3] >= p  # a finer tolerance never lowers the order


# ----------------------------------------------------------------------------- periodic
@pytest.mark.parametrize("name", ["rocksalt", "cscl", "zincblende"])
@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_madelung_constants(name, tol):
    pos, cell, q, units, r0, M = binary_crystal(name)
    e = pme_energy(pme_setup(pos, cell, tol=tol), q).energy
    assert abs(-e / units * r0 / M - 1.0) < tol


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_periodic_pme_equals_ewald(tol):
    pos, cell, q = random_cell()
    ref = ewald_energy(ewald_setup(pos, cell, tol=1e-12), q)
    r = pme_energy(pme_setup(pos, cell, tol=tol), q)
    assert abs(r.energy - ref.energy) < tol * abs(ref.energy)
    assert rel_max(r.potential, ref.potential) < tol
    assert rel_max(r.gradient, ref.gradient) < tol
    assert np.abs(r.strain_derivative - ref.strain_derivative).max() < tol * abs(ref.energy)
    assert np.allclose(r.strain_derivative, r.strain_derivative.T, rtol=0, atol=1e-13)


def test_periodic_gradient_and_strain_are_derivatives_of_the_pme_energy():
    """The PME energy's own derivatives (mesh and cut-offs fixed by tol) against central differences."""
    pos, cell, q = random_cell(seed=11)
    tol = 1e-8
    r = pme_energy(pme_setup(pos, cell, tol=tol), q)

    def energy(p, c):
        return pme_energy(pme_setup(p, c, tol=tol), q).energy

    h = 1e-4
    fd = np.zeros_like(pos)
    for i in range(len(q)):
        for x in range(3):
            d = np.zeros_like(pos)
            d[i, x] = h
            fd[i, x] = (energy(pos + d, cell) - energy(pos - d, cell)) / (2 * h)
    assert rel_max(fd, r.gradient) < 1e-7
    hs = 1e-5
    for a, b in ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)):
        eps = np.zeros((3, 3))
        eps[a, b] = eps[b, a] = hs / (1 if a == b else 2)  # symmetric strain; dE = W_ab (ε_ab + ε_ba)
        plus = energy(pos @ (np.eye(3) + eps).T, cell @ (np.eye(3) + eps).T)
        minus = energy(pos @ (np.eye(3) - eps).T, cell @ (np.eye(3) - eps).T)
        assert (plus - minus) / (2 * hs) == pytest.approx(r.strain_derivative[a, b], abs=1e-7 * abs(r.energy))


def test_potential_is_dE_dq_and_the_energy_is_half_q_phi():
    pos, cell, q = random_cell(seed=2)
    s = pme_setup(pos, cell, tol=1e-6)
    r = pme_energy(s, q)
    assert r.energy == pytest.approx(0.5 * q @ r.potential, abs=1e-12)
    h = 1e-3
    for i in range(len(q)):
        e = np.zeros(len(q))
        e[i] = h
        fd = (pme_energy(s, q + e, allow_charged=True).energy - pme_energy(s, q - e, allow_charged=True).energy) / (2 * h)
        assert fd == pytest.approx(r.potential[i], abs=1e-9)


# ----------------------------------------------------------------------------- clusters
@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_cluster_pme_equals_the_direct_sum(tol):
    pos, q = random_cluster()
    e, phi, grad, strain = direct(pos, q)
    r = pme_energy(pme_setup(pos, None, tol=tol), q)
    assert abs(r.energy - e) < tol * abs(e)
    assert rel_max(r.potential, phi) < tol
    assert rel_max(r.gradient, grad) < tol
    assert np.abs(r.strain_derivative - strain).max() < tol * abs(e)


def test_cluster_gradient_is_the_derivative_of_the_pme_energy():
    """Interior atoms (moving them leaves the mesh box where it is) against central differences."""
    pos, q = random_cluster(seed=8, n=30)
    tol = 1e-8
    r = pme_energy(pme_setup(pos, None, tol=tol), q)
    extreme = set(np.argmin(pos, axis=0)) | set(np.argmax(pos, axis=0))
    h = 1e-4
    for i in [k for k in range(len(q)) if k not in extreme][:6]:
        for x in range(3):
            d = np.zeros_like(pos)
            d[i, x] = h
            fd = (pme_energy(pme_setup(pos + d, None, tol=tol), q).energy
                  - pme_energy(pme_setup(pos - d, None, tol=tol), q).energy) / (2 * h)
            assert fd == pytest.approx(r.gradient[i, x], abs=1e-7 * np.abs(r.gradient).max())


def test_cluster_energy_is_translation_invariant():
    pos, q = random_cluster(seed=4)
    tol = 1e-6
    e0 = pme_energy(pme_setup(pos, None, tol=tol), q).energy
    for shift in ([0.37, -1.21, 5.5], [100.3, 0.05, -77.7]):
        assert abs(pme_energy(pme_setup(pos + shift, None, tol=tol), q).energy - e0) < tol * abs(e0)


# ----------------------------------------------------------------------------- integration
@pytest.mark.parametrize("periodic", [False, True])
def test_kernel_dispatch_gives_the_pme_result(periodic):
    """kernels.long_range in MESH mode returns the same E and φ and adds the same gradient and strain."""
    if periodic:
        pos, cell, q = random_cell(seed=9)
    else:
        (pos, q), cell = random_cluster(seed=9), None
    lr = long_range_data(pos, cell, 1e-10, method="pme", mesh_tol=1e-6)
    assert lr[0] == MESH
    grad, strain = np.ones_like(pos), np.ones((3, 3))
    e, phi = long_range(pos, q, True, grad, strain, lr)
    ref = pme_energy(pme_setup(pos, cell, tol=1e-6), q)
    assert e == pytest.approx(ref.energy, rel=1e-13)
    assert np.allclose(phi, ref.potential, rtol=0, atol=1e-13)
    assert np.allclose(grad - 1.0, ref.gradient, rtol=0, atol=1e-13)
    assert np.allclose(strain - 1.0, ref.strain_derivative, rtol=0, atol=1e-12)


def test_auto_method_keeps_the_exact_sums_for_small_systems():
    assert choose_method(50, False) == "direct" and choose_method(50, True) == "ewald"
    assert choose_method(10**5, False) == "pme" and choose_method(10**5, True) == "pme"
    pos, cell, q = random_cell()
    assert long_range_data(pos, cell, 1e-10)[0] == 1 and long_range_data(pos, None, 1e-10)[0] == 0


def test_bad_inputs_give_one_clear_error():
    pos, cell, q = random_cell()
    with pytest.raises(InputError, match="'fmm' is not known: use one of 'auto', 'direct', 'ewald', 'pme'"):
        long_range_data(pos, cell, 1e-10, method="fmm")
    with pytest.raises(InputError, match="'direct' is for clusters only"):
        long_range_data(pos, cell, 1e-10, method="direct")
    with pytest.raises(InputError, match="'ewald' needs a periodic cell"):
        long_range_data(pos, None, 1e-10, method="ewald")
    with pytest.raises(InputError, match="a periodic cell must be neutral: total charge Q=0.5"):
        pme_energy(pme_setup(pos, cell, tol=1e-6), q + 0.5 / len(q))
    with pytest.raises(InputError, match="PME tol must be a relative accuracy"):
        pme_setup(pos, cell, tol=2.0)


def test_fast_model_with_pme_matches_ewald_and_direct(small_bundle):
    """The ECT-EAM energy, dE/dc, forces and strain derivative with long_range="pme" (its real space
    folded into the U^sr tables) equal the exact paths to the mesh tolerance (rock-salt LiF cell,
    rattled and sheared; a LiF cluster); bad names are refused."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import FastModel

    pot = load_potential(small_bundle)
    with pytest.raises(InputError, match="long_range='fast' is not known; use one of 'auto', 'direct', 'ewald', 'pme'"):
        FastModel(pot, cutoff_tol=1e-6, r_max=12.0, long_range="fast")
    rng = np.random.default_rng(1)
    pos, cell, q, _, _, _ = binary_crystal("rocksalt")
    cell = cell + rng.normal(0, 0.2, (3, 3))
    pos = pos @ np.linalg.solve(np.eye(3) * 7.6, cell) + rng.normal(0, 0.2, pos.shape)
    system = pot.system(["Li"] * 4 + ["F"] * 4)
    c = np.zeros(system.offsets[-1])
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        c[system.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
    for geometry, exact in ((cell, "ewald"), (None, "direct")):
        ref = FastModel(pot, cutoff_tol=1e-6, r_max=12.0, long_range=exact).evaluate(system, pos, c, cell=geometry)
        r = FastModel(pot, cutoff_tol=1e-6, r_max=12.0, long_range="pme", mesh_tol=1e-8).evaluate(system, pos, c, cell=geometry)
        assert abs(r.energy - ref.energy) < 1e-8 * abs(ref.parts["coulomb_long"])
        assert rel_max(r.grad_r, ref.grad_r) < 1e-7
        assert rel_max(r.grad_c, ref.grad_c) < 1e-7     # dE/dc: the real space folded into U^sr stays bilinear in c
        assert np.abs(r.strain - ref.strain).max() < 1e-8 * abs(ref.parts["coulomb_long"])


def test_probe_screen_sees_the_same_coulomb_with_the_real_space_folded(small_bundle):
    """The global checks' pair-model probe estimates (U^sr + q_s q_t / R) are the same whether PME's real
    space sits in the U^sr tables (long_range="pme") or not (Ewald): up to the mesh tolerance."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe_kernels import probe_screen
    from ectem_core.potential.fastmodel import FastModel

    pot = load_potential(small_bundle)
    rng = np.random.default_rng(4)
    pos, cell, _, _, _, _ = binary_crystal("rocksalt")
    pos = pos + rng.normal(0, 0.1, pos.shape)
    system = pot.system(["Li"] * 4 + ["F"] * 4)
    c = pot.ground_weights(system)
    out = []
    for method in ("ewald", "pme"):
        fm = FastModel(pot, cutoff_tol=1e-6, r_max=12.0, long_range=method, mesh_tol=1e-8)
        pd = fm.pair_data(system, pos, cell)
        g = fm.evaluate_data(pd, c).grad_c
        nst, charge, _, _, _, cation, anion = fm.el[:7]
        i, j, est = probe_screen(c, g, pd.sysd, pd.arrays, nst, charge, cation, anion, 10.0)
        out.append((i, j, est))
    assert out[0][0].size > 0 and np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
    assert np.abs(out[1][2] - out[0][2]).max() < 1e-6 * np.abs(out[0][2]).max()
