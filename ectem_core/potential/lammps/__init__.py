"""LAMMPS export of a bundle: the plain-EAM (neutral ground-state) limit as eam/alloy or eam/fs setfl."""
from .export import export_lammps

__all__ = ["export_lammps"]
