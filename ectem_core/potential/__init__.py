"""Stage 4 — the ECT-EAM potential: the parameter bundle (`bundle`), tabulated state-pair
functions (`pair_tables`), the reference model (`model`), the numba evaluator (`fastmodel`,
`kernels`, `neighbours`), chemical-potential equalization (`cpe`, `cpe_kernels`, `simplex`),
the QEq baseline (`qeq`), scans (`scan`), the ASE calculator (`calculator`) and the LAMMPS
export (`lammps`). `load_potential(bundle)` is the entry point (a public path: never moves)."""
from .loader import Potential, TablePairs, load_potential

__all__ = ["Potential", "TablePairs", "load_potential"]
