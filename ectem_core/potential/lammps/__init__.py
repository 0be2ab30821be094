"""LAMMPS export of a bundle: the plain-EAM (neutral ground-state) limit as eam/alloy or eam/fs setfl
(`export`), and the ECT-EAM energy at fixed integer states as eam/fs + point-charge Coulomb
(`fixed_states`); shared setfl writer and LAMMPS spline in `setfl`."""
from .export import export_lammps
from .fixed_states import export_fixed_states

__all__ = ["export_lammps", "export_fixed_states"]
