"""Optimize the D2h rhombus (MX)2 at RHF/aug-cc-pVDZ: the M–X distance (Å) and the X–M–X angle (°)
stored in ectem_core/molecules/clusters.py. Usage: python tools/optimize_rhombus.py Li F [Li H, Na Cl ...]."""
import sys

from pyscf import gto, scf
from scipy.optimize import minimize

from ectem_core.elements import BOHR_ANGSTROM
from ectem_core.molecules.clusters import rhombus_positions
from ectem_core.qm.level import load_basis


def energy(m: str, x: str, d_ang: float, angle_deg: float) -> float:
    pos = rhombus_positions(d_ang / BOHR_ANGSTROM, angle_deg)
    mole = gto.M(atom=[[s, p] for s, p in zip([m, m, x, x], pos)], unit="Bohr", verbose=0,
                 basis={s: load_basis("aug-cc-pvdz", s) for s in (m, x)})
    mf = scf.RHF(mole)
    mf.conv_tol = 1e-10
    return mf.kernel()


def main(argv):
    for m, x in zip(argv[::2], argv[1::2]):
        res = minimize(lambda p: energy(m, x, *p), [1.8 if m != "Na" else 2.5, 100.0], method="Nelder-Mead",
                       options={"xatol": 1e-4, "fatol": 1e-9})
        print(f"{m}2{x}2: d = {res.x[0]:.4f} Å, angle {x}-{m}-{x} = {res.x[1]:.2f}°, E = {res.fun:.8f} Ha "
              f"({res.nfev} evaluations)")


if __name__ == "__main__":
    main(sys.argv[1:])
