"""The one result type every quantum-chemistry backend returns for an atomic state."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..atoms.radial import SphericalDensity


@dataclass
class AtomResult:
    """Energy and sphericalized density of one atomic state.

    energy_hartree: total energy at the energy level (frozen-core where that level says so).
    components: named energy pieces in hartree (scf, ccsd_correlation, triples, kinetic_scf...).
    extra_energies: other energies of the same state, e.g. 'all_electron' (for a state with
    no valence electrons under frozen core) or 'exact' (one-electron states).
    density: None for a bare nucleus only."""

    state: dict
    energy_hartree: float
    components: dict
    energy_level: dict
    density_level: dict
    density: SphericalDensity | None
    convergence: dict
    wall_s: float
    backend: str
    versions: dict
    extra_energies: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
