"""Bader (QTAIM) charges of a diatomic from its zero-flux surface, on a molecular grid.

In the bond frame (z along A->B, s = distance from the axis) the density averaged over the
azimuth phi is a function of (z, s). The interatomic surface of a diatomic is the set of
gradient paths that end at the bond critical point (BCP, the density minimum on the axis
between the nuclei); it is traced as the steepest-descent path that leaves the BCP
perpendicular to the axis (that path is attracting, so the trace is stable), giving a curve
z_surf(s). Grid points with z < z_surf(s) belong to A. Exact for Sigma states (axially
symmetric density); for others it is QTAIM of the phi-averaged density (`anisotropy`
reports the largest relative phi-variation on the surface). Assumes no non-nuclear
attractor (checked on the axis: exactly one density minimum between the nuclei).
Units: bohr, electrons.
"""
from __future__ import annotations

import numpy as np

from ...errors import EctemError, InputError
from .molgrid import MolecularGrid


class BondFrame:
    """z along A->B from A, with two perpendicular unit vectors."""

    def __init__(self, mol):
        if mol.natm != 2:
            raise InputError(f"Bader charges here are for diatomics (got {mol.natm} atoms): "
                             "for polyatomics run a cube-based Bader code on pyscf.tools.cubegen output")
        R = mol.atom_coords()
        self.origin = R[0]
        self.length = float(np.linalg.norm(R[1] - R[0]))
        ez = (R[1] - R[0]) / self.length
        trial = np.array([1.0, 0.0, 0.0]) if abs(ez[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        ex = trial - ez * (trial @ ez)
        ex /= np.linalg.norm(ex)
        self.ez, self.ex, self.ey = ez, ex, np.cross(ez, ex)

    def to_zs(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = coords - self.origin
        z = d @ self.ez
        s = np.linalg.norm(d - z[:, None] * self.ez[None, :], axis=1)
        return z, s

    def points(self, z: np.ndarray, s: np.ndarray, phi: float) -> np.ndarray:
        u = np.cos(phi) * self.ex + np.sin(phi) * self.ey
        return self.origin + z[:, None] * self.ez + s[:, None] * u


class AxialDensity:
    """phi-averaged rho, d rho/dz and d rho/ds at (z, s) points (n_phi azimuths)."""

    def __init__(self, mol, dm, frame: BondFrame, n_phi: int = 8):
        self.mol, self.dm, self.frame = mol, dm, frame
        self.phis = 2 * np.pi * np.arange(n_phi) / n_phi

    def values(self, z: np.ndarray, s: np.ndarray, spread: bool = False):
        from pyscf.dft import numint

        n, m = len(z), len(self.phis)
        u = np.cos(self.phis)[:, None] * self.frame.ex + np.sin(self.phis)[:, None] * self.frame.ey  # (m,3)
        pts = (self.frame.origin + z[None, :, None] * self.frame.ez
               + s[None, :, None] * u[:, None, :]).reshape(-1, 3)
        ao = numint.eval_ao(self.mol, pts, deriv=1)
        r = numint.eval_rho(self.mol, ao, self.dm, xctype="GGA")
        rho = r[0].reshape(m, n)
        gz = (r[1:4].T @ self.frame.ez).reshape(m, n)
        gs = np.einsum("mnk,mk->mn", r[1:4].T.reshape(m, n, 3), u)
        mean = rho.mean(axis=0)
        if spread:
            return (mean, gz.mean(axis=0), gs.mean(axis=0),
                    np.max(np.abs(rho - mean), axis=0) / np.maximum(mean, 1e-300))
        return mean, gz.mean(axis=0), gs.mean(axis=0)


def bond_critical_point(dens: AxialDensity) -> float:
    """z of the density minimum on the axis between the nuclei (raises if not unique)."""
    from scipy.optimize import minimize_scalar

    L = dens.frame.length
    z = np.linspace(0.01 * L, 0.99 * L, 801)
    rho = dens.values(z, np.zeros_like(z))[0]
    interior = np.flatnonzero((rho[1:-1] < rho[:-2]) & (rho[1:-1] < rho[2:])) + 1
    if len(interior) != 1:
        raise EctemError(f"{len(interior)} density minima on the bond axis: a non-nuclear attractor or "
                         "a flat density; the diatomic zero-flux tracer does not apply")
    i = int(interior[0])
    res = minimize_scalar(lambda x: dens.values(np.array([x]), np.zeros(1))[0][0],
                          bounds=(z[i - 1], z[i + 1]), method="bounded", options={"xatol": 1e-9})
    return float(res.x)


def trace_surface(dens: AxialDensity, z_bcp: float, step: float = 0.02, s_start: float = 0.02,
                  rho_stop: float = 1e-9, s_max: float = 40.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Steepest-descent path from the BCP perpendicular to the axis: arrays s, z along the
    path (it may curl around a nucleus and close on the axis), and the largest azimuthal
    anisotropy of rho along it (RK4 in arc length, `step` bohr)."""

    def direction(p):
        _, gz, gs = dens.values(np.array([p[0]]), np.array([p[1]]))
        g = np.array([gz[0], gs[0]])
        return -g / max(np.linalg.norm(g), 1e-300)

    p = np.array([z_bcp, s_start])
    zs, ss = [z_bcp, p[0]], [0.0, p[1]]
    rho_prev = dens.values(np.array([p[0]]), np.array([p[1]]))[0][0]
    while p[1] < s_max:
        h = step * max(1.0, p[1])  # longer steps far out, where the surface is nearly flat
        k1 = direction(p)
        k2 = direction(p + 0.5 * h * k1)
        k3 = direction(p + 0.5 * h * k2)
        k4 = direction(p + h * k3)
        p_new = p + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6.0
        rho = dens.values(np.array([p_new[0]]), np.array([p_new[1]]))[0][0]
        # stop in the far tail, or where descent stalls (Gaussian-basis tails have spurious
        # shallow minima); the electrons beyond the last point are reported by bader()
        if p_new[1] <= 0.0:  # back on the axis behind a nucleus: the basin is closed
            f = p[1] / (p[1] - p_new[1])
            zs.append(p[0] + f * (p_new[0] - p[0]))
            ss.append(0.0)
            break
        if rho < rho_stop or rho >= rho_prev:
            break
        p, rho_prev = p_new, rho
        zs.append(p[0])
        ss.append(p[1])
    ss, zs = np.array(ss), np.array(zs)
    if ss[-1] < 1e-3 * max(1.0, ss.max()):  # stalled right at the axis: the basin closes there
        ss[-1] = 0.0
    aniso = float(np.max(dens.values(zs, ss, spread=True)[3]))
    return ss, zs, aniso


def basin_a(ss: np.ndarray, zs: np.ndarray, z: np.ndarray, s: np.ndarray, far: float = 1e4) -> np.ndarray:
    """True for (z, s) points in A's basin (the side of the surface containing z -> -inf, or
    inside a surface that closes on the axis), by even-odd ray casting on the polygon
    closed along the axis (and, for an open surface, by its straight continuation)."""
    poly_z, poly_s = list(zs), list(ss)
    if ss[-1] > 0.0:  # open: continue along the last direction, then close at z = -far
        d = np.array([zs[-1] - zs[-2], ss[-1] - ss[-2]])
        d /= np.linalg.norm(d)
        pz, ps = zs[-1] + far * d[0], ss[-1] + far * max(d[1], 0.0)
        poly_z += [pz, -10 * far, -10 * far]
        poly_s += [ps, ps, 0.0]
    poly_z.append(poly_z[0])
    poly_s.append(0.0)
    inside = np.zeros(len(z), dtype=bool)
    for (z1, s1), (z2, s2) in zip(zip(poly_z[:-1], poly_s[:-1]), zip(poly_z[1:], poly_s[1:])):
        if s1 == s2:
            continue
        cross = (s1 > s) != (s2 > s)
        zc = z1 + (s - s1) * (z2 - z1) / (s2 - s1)
        inside ^= cross & (z < zc)
    return inside


def bader(mol, dm, grid: MolecularGrid, n_phi: int = 8, step: float = 0.02) -> tuple[np.ndarray, dict]:
    """Bader charges (q_A, q_B) of a diatomic and {z_bcp_bohr, rho_bcp, surface_points, anisotropy}."""
    frame = BondFrame(mol)
    dens = AxialDensity(mol, dm, frame, n_phi)
    z_bcp = bond_critical_point(dens)
    ss, zs, aniso = trace_surface(dens, z_bcp, step=step)
    z, s = frame.to_zs(grid.coords)
    in_a = basin_a(ss, zs, z, s)
    wr = grid.weights * grid.rho
    Z = mol.atom_charges().astype(float)
    q = np.array([Z[0] - wr[in_a].sum(), Z[1] - wr[~in_a].sum()])
    # electrons farther from the bond midpoint than the end of an open traced surface: there
    # the assignment relies on the surface's straight continuation
    mid = 0.5 * frame.length
    beyond = 0.0 if ss[-1] == 0.0 else float(wr[np.hypot(z - mid, s) > np.hypot(zs[-1] - mid, ss[-1])].sum())
    info = {"z_bcp_bohr": z_bcp, "rho_bcp": float(dens.values(np.array([z_bcp]), np.zeros(1))[0][0]),
            "surface_points": len(ss), "surface_s_max_bohr": float(ss[-1]),
            "closed_basin": bool(ss[-1] == 0.0), "n_electrons_beyond_trace": beyond, "anisotropy": aniso}
    return q, info
