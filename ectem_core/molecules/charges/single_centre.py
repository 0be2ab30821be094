"""Independent Hirshfeld charges of a diatomic: single-centre quadrature, no shared code path.

Cross-check of `hirshfeld.hirshfeld` sharing only the inputs (mol, dm, and the free-atom
SCF densities). Here: N_A = ∫ rho(r) rho0_A / (rho0_A + rho0_B) integrated on a grid centred
on A in bond-aligned spherical coordinates (trapezoid in ln r, Gauss-Legendre in cos(theta),
uniform azimuth); the promolecule depends only on (r, theta), so rho is averaged over the
azimuth first. The molecular density is evaluated by AO values and an einsum (not
pyscf.dft.numint); the free-atom spherical averages are computed exactly at every needed
distance with a product Gauss-Legendre x uniform-phi rule (exact for the polynomial angular
dependence of a Gaussian-basis density up to its degree), not by Lebedev + radial splines.
Units: bohr, electrons.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from .freeatoms import run_free_atom


def _density(mol, dm, pts: np.ndarray, chunk: int = 50000) -> np.ndarray:
    out = np.empty(len(pts))
    kind = "GTOval_cart" if mol.cart else "GTOval_sph"
    for s in range(0, len(pts), chunk):
        ao = mol.eval_gto(kind, pts[s:s + chunk])
        out[s:s + chunk] = np.einsum("pi,ij,pj->p", ao, dm, ao, optimize=True)
    return out


def _sphere_rule(l_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors and weights (sum 1) exact for spherical polynomials of degree 2*l_max."""
    n_t = l_max + 2
    x, wx = np.polynomial.legendre.leggauss(n_t)
    n_p = 2 * l_max + 3
    phi = 2 * np.pi * np.arange(n_p) / n_p
    st = np.sqrt(1 - x**2)
    u = np.stack([np.outer(st, np.cos(phi)).ravel(), np.outer(st, np.sin(phi)).ravel(),
                  np.repeat(x, n_p)], axis=1)
    w = np.repeat(wx / 2.0, n_p) / n_p
    return u, w


def _spherical_average(amol, adm, dist: np.ndarray) -> np.ndarray:
    if amol.nelectron == 0:
        return np.zeros_like(dist)
    l_max = int(max(amol.bas_angular(i) for i in range(amol.nbas)))
    u, w = _sphere_rule(l_max)
    pts = (dist[:, None, None] * u[None, :, :]).reshape(-1, 3)
    return _density(amol, adm, pts).reshape(len(dist), len(w)) @ w


def hirshfeld_single_centre(mol, dm, method: str = "hf", n_r: int = 400, n_theta: int = 96,
                            n_phi: int = 12, r_min: float = 1e-6, r_max: float = 60.0) -> np.ndarray:
    """Hirshfeld charges (q_A, q_B) of a diatomic by single-centre quadrature around each atom."""
    if mol.natm != 2:
        raise InputError(f"the single-centre Hirshfeld cross-check is for diatomics (got {mol.natm} atoms)")
    R = mol.atom_coords()
    L = float(np.linalg.norm(R[1] - R[0]))
    atoms = [run_free_atom(mol, mol.atom_pure_symbol(a), 0, method)[:2] for a in range(2)]
    t = np.linspace(np.log(r_min), np.log(r_max), n_r)
    r = np.exp(t)
    w_r = r**3 * (t[1] - t[0])
    w_r[[0, -1]] *= 0.5
    x, w_x = np.polynomial.legendre.leggauss(n_theta)
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    charges = np.empty(2)
    for a in range(2):
        ez = (R[1 - a] - R[a]) / L
        trial = np.array([1.0, 0.0, 0.0]) if abs(ez[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        ex = trial - ez * (trial @ ez)
        ex /= np.linalg.norm(ex)
        ey = np.cross(ez, ex)
        st = np.sqrt(1 - x**2)
        dirs = (st[:, None, None] * (np.cos(phi)[None, :, None] * ex + np.sin(phi)[None, :, None] * ey)
                + x[:, None, None] * ez)  # (n_theta, n_phi, 3)
        pts = R[a] + r[:, None, None, None] * dirs[None]
        rho = _density(mol, dm, pts.reshape(-1, 3)).reshape(n_r, n_theta, n_phi).mean(axis=2)
        d_other = np.sqrt(np.maximum(r[:, None]**2 + L**2 - 2 * r[:, None] * L * x[None, :], 0.0))
        rho_a = _spherical_average(*atoms[a], r)[:, None]
        rho_b = _spherical_average(*atoms[1 - a], d_other.ravel()).reshape(n_r, n_theta)
        pro = rho_a + rho_b
        w = np.where(pro > 1e-300, rho_a / np.where(pro > 1e-300, pro, 1.0), 0.5)
        n_a = 2 * np.pi * np.einsum("i,j,ij->", w_r, w_x, w * rho)
        charges[a] = mol.atom_charge(a) - n_a
    return charges
