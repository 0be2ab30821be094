"""Public path of the ASE calculator: `from ectem_core.ase import ECTEAM` (lives in potential.calculator)."""
from .potential.calculator import ECTEAM

__all__ = ["ECTEAM"]
