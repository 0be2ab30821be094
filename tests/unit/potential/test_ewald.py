"""Ewald summation of point charges in periodic cells (ectem_core.potential.ewald) and the cell
checks of the periodic code (ectem_core.potential.cell). Expected values come from the
literature (Madelung constants) or from identities (finite differences, symmetry, a screened
direct sum that uses no Ewald splitting), never from this program's output."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.potential.cell import check_cell, check_neutral, check_overlaps
from ectem_core.potential.ewald import ewald_energy, ewald_parameters, ewald_setup

# Madelung constants per nearest cation-anion distance R0: E per formula unit = -M z+|z-| / R0.
# Kittel (Introduction to Solid State Physics) quotes 1.747565 (NaCl), 1.762675 (CsCl) and
# 1.6381 (ZnS); more digits: NaCl 1.7475645946331822 (OEIS A085469), CsCl 1.7626747730709884
# (OEIS A181152, Sakamoto, J. Chem. Phys. 28, 164 (1958)), zinc blende 1.63805505338879 (the value
# Ewald test suites compare with, e.g. ASE's).
M_NACL = 1.7475645946331822
M_CSCL = 1.7626747730709884
M_ZNS = 1.63805505338879
# Fluorite CaF2 (Ca2+ on fcc, F- on both tetrahedral sublattices): M = 2.51939 with z+|z-| = 2
# (Wikipedia's 'Madelung constant' table; 2.520 in its Chinese edition), i.e. E per CaF2 =
# -5.03878/R0: tables that use one charge factor Z = 1 list 5.0388 (McGraw-Hill Dictionary of
# Scientific and Technical Terms) or 5.04.
# Quoted to 5 decimals only; more digits follow exactly from superposition: with S(t) the
# regularized fcc lattice sum at offset t, E_ZnS = S(0) - S(1/4), E_NaCl = S(0) - S(1/2) and
# E_CaF2 = 3 S(0) - 4 S(1/4) + S(1/2) = 4 E_ZnS - E_NaCl, so M_CaF2 = 2 M_ZnS - (sqrt(3)/4) M_NaCl.
M_CAF2_QUOTED = 2.51939
M_CAF2 = 2.0 * M_ZNS - math.sqrt(3.0) / 4.0 * M_NACL

FCC = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
FCC_TRANSLATIONS = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
SQ3 = math.sqrt(3.0)
# lattice, basis (cubic fractional coordinates, charge), R0 / a, z+|z-|, M
STRUCTURES = {
    "rocksalt": ("fcc", [((0, 0, 0), 1.0), ((0.5, 0.5, 0.5), -1.0)], 0.5, 1.0, M_NACL),
    "cscl": ("sc", [((0, 0, 0), 1.0), ((0.5, 0.5, 0.5), -1.0)], SQ3 / 2, 1.0, M_CSCL),
    "zincblende": ("fcc", [((0, 0, 0), 1.0), ((0.25, 0.25, 0.25), -1.0)], SQ3 / 4, 1.0, M_ZNS),
    "fluorite": ("fcc", [((0, 0, 0), 2.0), ((0.25, 0.25, 0.25), -1.0), ((0.75, 0.75, 0.75), -1.0)], SQ3 / 4, 2.0, M_CAF2),
}


def random_rotation(rng) -> np.ndarray:
    Q, R = np.linalg.qr(rng.normal(size=(3, 3)))
    Q = Q * np.sign(np.diag(R))
    return Q if np.linalg.det(Q) > 0 else -Q


def crystal(name: str, variant: str, a: float = 7.6, seed: int = 0):
    """positions (bohr), cell (rows, bohr), charges and number of formula units of a structure.
    primitive: fcc or simple-cubic primitive cell; conventional: the cubic cell (a 2x2x2
    supercell for the simple-cubic CsCl); sheared: the primitive lattice spanned by a unimodular
    combination of its vectors (strongly non-orthogonal); rotated: the conventional cell rotated
    by a random rotation, every atom shifted by a random vector and some by lattice vectors."""
    lattice, basis, _, _, _ = STRUCTURES[name]
    frac = np.array([b[0] for b in basis], dtype=float)
    q = np.array([b[1] for b in basis])
    prim = (FCC if lattice == "fcc" else np.eye(3)) * a
    if variant in ("primitive", "sheared"):
        pos, cell, units = frac * a, prim, 1
        if variant == "sheared":
            cell = np.array([[1, 0, 0], [1, 1, 0], [-1, 2, 1]]) @ prim  # det 1: same lattice
        return pos, cell, q, units
    trans = FCC_TRANSLATIONS if lattice == "fcc" else np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    size = 1.0 if lattice == "fcc" else 2.0
    pos = np.array([(f + t) * a for t in trans for f in frac])
    qs = np.tile(q, len(trans))
    cell = np.eye(3) * a * size
    if variant == "rotated":
        rng = np.random.default_rng(seed)
        R = random_rotation(rng)
        pos = pos + rng.normal(size=3)
        pos[::3] += cell[1] - 2 * cell[2]  # atoms outside the cell: same crystal
        pos, cell = pos @ R.T, cell @ R.T
    return pos, cell, qs, len(trans)


def madelung(name: str, variant: str, tol: float = 1e-10, alpha_factor: float | None = None, a: float = 7.6) -> float:
    pos, cell, q, units = crystal(name, variant, a)
    alpha = None
    if alpha_factor is not None:
        alpha = alpha_factor * ewald_parameters(len(q), abs(np.linalg.det(cell)), tol)[0]
    E = ewald_energy(ewald_setup(pos, cell, tol=tol, alpha=alpha), q).energy / units
    _, _, r0, zz, _ = STRUCTURES[name]
    return -E * r0 * a / zz


@pytest.mark.parametrize("variant", ["primitive", "conventional", "sheared", "rotated"])
@pytest.mark.parametrize("name", list(STRUCTURES))
def test_madelung_constants(name, variant):
    M = madelung(name, variant, tol=1e-10)
    assert M == pytest.approx(STRUCTURES[name][4], rel=1e-9)
    if name == "fluorite":
        assert abs(M - M_CAF2_QUOTED) <= 0.5e-5  # the quoted 5 decimals


@pytest.mark.parametrize("tol", [1e-6, 1e-8, 1e-10, 1e-12])
def test_accuracy_follows_tol_for_any_alpha(tol):
    """The cut-offs from tol keep |ΔE/E| below tol whatever α is (α = 1/2, 1 and 2 times the
    balanced value): energies from different α agree to the tolerance."""
    for name, variant in (("rocksalt", "conventional"), ("zincblende", "primitive")):
        ref = STRUCTURES[name][4]
        for f in (0.5, 1.0, 2.0):
            assert abs(madelung(name, variant, tol=tol, alpha_factor=f) / ref - 1.0) < tol


def test_cell_smaller_than_cutoff():
    """A 2-atom rock-salt primitive cell with 3 bohr edges: r_cut spans many cells, every atom
    meets many images of itself and of the other atom."""
    a = 3.0 * math.sqrt(2.0)
    pos, cell, q, _ = crystal("rocksalt", "primitive", a=a)
    s = ewald_setup(pos, cell, tol=1e-10)
    assert np.linalg.norm(cell, axis=1).max() == pytest.approx(3.0)
    assert s.r_cut > 2.0 * 3.0
    assert s.n_images > 50 and s.n_pairs == 3  # (0,0), (0,1), (1,1): images summed per pair
    M = -ewald_energy(s, q).energy * a / 2
    assert M == pytest.approx(M_NACL, rel=1e-9)


@pytest.mark.parametrize("lattice,cell", [
    ("sc", np.eye(3)),
    ("bcc", 0.5 * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]])),
    ("fcc", FCC),
])
def test_background_term_wigner_crystals(lattice, cell):
    """One unit charge per cell in a uniform neutralizing background (the Q != 0 convention):
    E r_s = -0.895929255682 (bcc) and -0.895873615195 (fcc) hartree per charge, r_s = (3V/4π)^(1/3)
    (Coldwell-Horsfall & Maradudin, J. Math. Phys. 1, 395 (1960)); simple cubic E a = -1.4186487
    (Nijboer & De Wette, Physica 23, 309 (1957))."""
    a = 5.0
    cell = cell * a
    rs = (3.0 * abs(np.linalg.det(cell)) / (4.0 * np.pi)) ** (1.0 / 3.0)
    r = ewald_energy(ewald_setup([[0.3, 0.1, 0.2]], cell, tol=1e-12), [1.0])
    assert r.parts["background"] < 0.0
    if lattice == "sc":
        assert r.energy * a == pytest.approx(-1.4186487, abs=0.6e-7)
    else:
        assert r.energy * rs == pytest.approx({"bcc": -0.895929255682, "fcc": -0.895873615195}[lattice], abs=1e-12)


# ----------------------------------------------------------------------------- derivatives
def random_cell(seed: int = 5, n: int = 8, min_distance: float = 1.6, neutral: bool = True):
    """A random triclinic cell (about 7.5 bohr edges) with n atoms no closer than min_distance
    (periodic images included) and random charges (neutral unless asked otherwise)."""
    rng = np.random.default_rng(seed)
    cell = 7.5 * (np.eye(3) + 0.25 * rng.uniform(-1.0, 1.0, (3, 3)))
    frac = []
    while len(frac) < n:
        f = rng.uniform(0.0, 1.0, 3)
        ok = True
        for g in frac:
            d = f - g
            d -= np.round(d)
            for s in np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).reshape(3, -1).T:
                if np.linalg.norm((d + s) @ cell) < min_distance:
                    ok = False
        if ok:
            frac.append(f)
    q = rng.normal(size=n)
    if neutral:
        q -= q.mean()
    return np.array(frac) @ cell, cell, q


def test_potential_is_dE_dq():
    """E is a quadratic form in q (background term included), so central differences are exact
    up to rounding, also for perturbations that change Q."""
    pos, cell, q = random_cell()
    s = ewald_setup(pos, cell, tol=1e-12)
    r = ewald_energy(s, q)
    h = 1e-3
    for i in range(len(q)):
        e = np.zeros(len(q))
        e[i] = h
        fd = (ewald_energy(s, q + e).energy - ewald_energy(s, q - e).energy) / (2 * h)
        assert fd == pytest.approx(r.potential[i], abs=1e-9)
    d = np.random.default_rng(2).normal(size=len(q))
    d -= d.mean()  # a neutral pattern, as a charge solver moves charge
    fd = (ewald_energy(s, q + h * d).energy - ewald_energy(s, q - h * d).energy) / (2 * h)
    assert fd == pytest.approx(r.potential @ d, abs=1e-9)
    # homogeneous of degree 2: E = q.φ/2; and φ is linear in q
    assert r.energy == pytest.approx(0.5 * q @ r.potential, abs=1e-12)
    q2 = np.random.default_rng(3).normal(size=len(q))
    phi = ewald_energy(s, q + q2).potential
    assert np.allclose(phi, r.potential + ewald_energy(s, q2).potential, atol=1e-12)


def test_gradient_against_finite_differences():
    pos, cell, q = random_cell()
    tol = 1e-12
    r = ewald_energy(ewald_setup(pos, cell, tol=tol), q)
    h = 1e-4
    fd = np.zeros_like(pos)
    for i in range(len(q)):
        for x in range(3):
            p = pos.copy()
            p[i, x] += h
            ep = ewald_energy(ewald_setup(p, cell, tol=tol), q, want_forces=False, want_stress=False).energy
            p[i, x] -= 2 * h
            em = ewald_energy(ewald_setup(p, cell, tol=tol), q, want_forces=False, want_stress=False).energy
            fd[i, x] = (ep - em) / (2 * h)
    assert np.abs(r.gradient).max() > 0.05
    assert np.abs(fd - r.gradient).max() < 1e-8
    assert np.abs(r.gradient.sum(axis=0)).max() < 1e-12  # no net force on the cell


def test_strain_derivative_against_finite_differences():
    """∂E/∂ε_ab for r -> (1 + ε) r applied to positions and cell rows, all six components."""
    pos, cell, q = random_cell()
    tol = 1e-12
    s0 = ewald_setup(pos, cell, tol=tol)
    W = ewald_energy(s0, q).strain_derivative
    assert np.allclose(W, W.T, atol=1e-14)
    h = 1e-5

    def energy(eps):
        F = np.eye(3) + eps
        return ewald_energy(ewald_setup(pos @ F.T, cell @ F.T, tol=tol, alpha=s0.alpha), q, False, False).energy

    for a in range(3):
        for b in range(a, 3):
            e = np.zeros((3, 3))
            e[a, b] += h / 2
            e[b, a] += h / 2
            fd = (energy(e) - energy(-e)) / (2 * h)
            assert fd == pytest.approx(W[a, b], abs=1e-8)
    # the trace: E is homogeneous of degree -1 in lengths, so tr W = -E
    assert np.trace(W) == pytest.approx(-ewald_energy(s0, q).energy, abs=1e-10)


def test_invariance_and_covariance():
    pos, cell, q = random_cell()
    s = ewald_setup(pos, cell, tol=1e-12)
    r = ewald_energy(s, q)
    # one atom moved by a lattice vector, all atoms by a rigid shift
    p = pos + np.array([0.3, -1.7, 2.2])
    p[3] += 2 * cell[0] - cell[2]
    r2 = ewald_energy(ewald_setup(p, cell, tol=1e-12), q)
    assert r2.energy == pytest.approx(r.energy, abs=1e-12)
    assert np.abs(r2.gradient - r.gradient).max() < 1e-11
    assert np.abs(r2.strain_derivative - r.strain_derivative).max() < 1e-10
    # a rotation: E unchanged, gradient and strain derivative rotate
    R = random_rotation(np.random.default_rng(11))
    r3 = ewald_energy(ewald_setup(pos @ R.T, cell @ R.T, tol=1e-12), q)
    assert r3.energy == pytest.approx(r.energy, abs=1e-12)
    assert np.abs(r3.gradient - r.gradient @ R.T).max() < 1e-11
    assert np.abs(r3.strain_derivative - R @ r.strain_derivative @ R.T).max() < 1e-10
    # the setup is reused, not changed, by evaluations
    before = s.cos_kr.copy(), s.pair_g.copy()
    ewald_energy(s, -q)
    assert np.array_equal(before[0], s.cos_kr) and np.array_equal(before[1], s.pair_g)


def test_alpha_independence_of_a_random_cell():
    """Energies, gradients and strain derivatives of a random neutral triclinic cell from
    α = 1/2, 1, 2 times the balanced value agree with a tol = 1e-15 evaluation to tol, relative
    to E (the gradient relative to its largest component, the strain derivative relative to E:
    tr ∂E/∂ε = -E)."""
    pos, cell, q = random_cell(seed=9)
    ref = ewald_energy(ewald_setup(pos, cell, tol=1e-15), q)
    alpha = ewald_parameters(len(q), abs(np.linalg.det(cell)), 1e-10)[0]  # the balanced α (tol-independent)
    gmax = np.abs(ref.gradient).max()
    for tol in (1e-6, 1e-8, 1e-10):
        for f in (0.5, 1.0, 2.0):
            r = ewald_energy(ewald_setup(pos, cell, tol=tol, alpha=f * alpha), q)
            assert abs(r.energy - ref.energy) < tol * abs(ref.energy)
            assert np.abs(r.gradient - ref.gradient).max() < tol * gmax
            assert np.abs(r.strain_derivative - ref.strain_derivative).max() < tol * abs(ref.energy)


# ----------------------------------------------------------------------------- a direct sum
@numba.njit(cache=True)
def _screened_sums(x, cell, nmax, beta0, dbeta, nbeta, rmax, reach):
    """K[m, i, j] = Σ'_n exp(-β_m r)/r, β_m = beta0 + m dbeta, over the images r = |x_j + n.cell - x_i|
    < rmax[m] (n = 0 skipped for i = j): absolutely convergent screened-Coulomb lattice sums.
    Lattice vectors longer than `reach` (rmax + the largest |x_j - x_i|) are skipped."""
    n = x.shape[0]
    K = np.zeros((nbeta, n, n))
    r2max = rmax.max() ** 2
    for a in range(-nmax[0], nmax[0] + 1):
        for b in range(-nmax[1], nmax[1] + 1):
            for c in range(-nmax[2], nmax[2] + 1):
                t0 = a * cell[0, 0] + b * cell[1, 0] + c * cell[2, 0]
                t1 = a * cell[0, 1] + b * cell[1, 1] + c * cell[2, 1]
                t2 = a * cell[0, 2] + b * cell[1, 2] + c * cell[2, 2]
                if t0 * t0 + t1 * t1 + t2 * t2 > reach * reach:
                    continue
                for i in range(n):
                    for j in range(i, n):
                        if i == j and a == 0 and b == 0 and c == 0:
                            continue
                        d0 = x[j, 0] + t0 - x[i, 0]
                        d1 = x[j, 1] + t1 - x[i, 1]
                        d2 = x[j, 2] + t2 - x[i, 2]
                        r2 = d0 * d0 + d1 * d1 + d2 * d2
                        if r2 >= r2max:
                            continue
                        r = math.sqrt(r2)
                        e = math.exp(-beta0 * r) / r
                        u = math.exp(-dbeta * r)
                        for m in range(nbeta):
                            if r < rmax[m]:
                                K[m, i, j] += e
                            e *= u
    for i in range(n):  # the sum over n of the pair (j, i) is that of (i, j) with n -> -n
        for j in range(i + 1, n):
            for m in range(nbeta):
                K[m, j, i] = K[m, i, j]
    return K


def test_screened_direct_sum_without_ewald():
    """Independent of any Ewald splitting: the screened energy E(β) = 1/2 Σ q_i q_j Σ'_n e^(-βr)/r
    converges absolutely (summed in real space to e^(-βr) < 4e-14). By Poisson summation its lattice
    sum is (4π/V) Σ_k e^(ik.r)/(k² + β²), so E(β) = 2πQ²/(Vβ²) + β Σq²/2 + E_Ewald + c1 β² + c2 β⁴ + ...
    (the k = 0 term, the -β of e^(-βr)/r at r -> 0 for i = j, and 1/(k² + β²) expanded for β below
    the shortest k). A polynomial in β² through five β in [0.1, 0.2] k_min extrapolates to E_Ewald,
    with the neutralizing-background convention for Q != 0."""
    pos, cell, q = random_cell(seed=7)
    V = abs(np.linalg.det(cell))
    kmin = 2 * np.pi * np.linalg.norm(np.linalg.inv(cell).T, axis=1).min()
    betas = np.linspace(0.1, 0.2, 5) * kmin
    rmax = 31.0 / betas  # e^(-βr) < 4e-14
    h = 1.0 / np.linalg.norm(np.linalg.inv(cell).T, axis=1)
    reach = rmax.max() + np.linalg.norm(pos[:, None] - pos[None], axis=2).max()
    nmax = np.ceil(reach / h).astype(np.int64)
    K = _screened_sums(np.ascontiguousarray(pos), np.ascontiguousarray(cell), nmax, betas[0], betas[1] - betas[0], 5, rmax, reach)
    s = ewald_setup(pos, cell, tol=1e-12)
    for qq in (q, q + 0.3):  # neutral, then Q = 2.4
        Q = qq.sum()
        Eb = 0.5 * np.einsum("i,mij,j->m", qq, K, qq) - betas * (qq @ qq) / 2 - 2 * np.pi * Q * Q / (V * betas ** 2)
        E0 = np.polyfit(betas ** 2, Eb, 4)[-1]
        assert E0 == pytest.approx(ewald_energy(s, qq).energy, rel=1e-7)


# ----------------------------------------------------------------------------- bad input
def test_zero_volume_cell():
    flat = [[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [4.0, 4.0, 0.0]]
    with pytest.raises(InputError, match="cell has zero volume"):
        check_cell(flat, (True, True, True))
    with pytest.raises(InputError, match="cell has zero volume"):
        ewald_setup([[0, 0, 0], [1, 1, 0]], flat)
    with pytest.raises(InputError, match="3x3"):
        check_cell(np.eye(2), True)
    with pytest.raises(InputError, match="non-finite"):
        check_cell([[np.nan, 0, 0], [0, 1, 0], [0, 0, 1]], True)


def test_periodicity_must_be_all_or_nothing():
    with pytest.raises(InputError, match="mixed periodicity"):
        check_cell(np.eye(3) * 5, (True, True, False))
    cell, periodic = check_cell(np.zeros((3, 3)), False)  # a cluster: the cell is not used
    assert not periodic
    with pytest.raises(InputError, match="needs a fully periodic cell"):
        ewald_setup([[0, 0, 0]], np.eye(3) * 5, pbc=False)


def test_non_neutral_cell():
    check_neutral(1e-10)
    with pytest.raises(InputError, match="a periodic cell must be neutral: total charge Q=0.5"):
        check_neutral(0.5)


def test_coincident_atoms_and_images():
    cell = np.eye(3) * 5.0
    with pytest.raises(InputError, match=r"atoms 0 and 2 coincide"):
        check_overlaps([[1, 1, 1], [2, 2, 2], [1, 1, 1 + 1e-9]], cell)
    # atom 1 is atom 0's image one lattice vector along a1
    with pytest.raises(InputError, match=r"atoms 0 and 1 coincide: atom 1 shifted by n=\(-1, 0, 0\)"):
        ewald_setup([[0.5, 1, 1], [5.5, 1, 1]], cell, tol=1e-8)
    # a lattice vector shorter than 1e-8 bohr (volume still 1e-3 bohr^3): an atom on its own image
    with pytest.raises(InputError, match=r"atom 0 sits on its own periodic image shifted by n=\(1, 0, 0\)"):
        check_overlaps([[0.0, 0.0, 0.0]], np.diag([1e-9, 1e3, 1e3]))
    with pytest.raises(InputError, match="atoms 0 and 1 coincide"):
        check_overlaps([[0, 0, 0], [0, 0, 0]], None)  # a cluster
    check_overlaps([[0, 0, 0], [2.5, 0, 0]], cell)  # no complaint


def test_bad_parameters():
    with pytest.raises(InputError, match="tol must be a relative accuracy"):
        ewald_setup([[0, 0, 0]], np.eye(3) * 5, tol=0.0)
    s = ewald_setup([[0, 0, 0], [2.5, 2.5, 2.5]], np.eye(3) * 5)
    with pytest.raises(InputError, match="expected 2 values"):
        ewald_energy(s, [1.0])
