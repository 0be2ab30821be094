"""Crystal structures a user checks first (ASE Atoms, Å): rock salt, CsCl and zinc blende for a
binary AB; bcc, fcc and hcp (ideal c/a = √(8/3) unless given) for an element. Primitive cells by
default (the smallest cell: 1 or 2 atoms); `cubic=True` gives the conventional cubic cell.

`nearest_neighbour(structure, a)` is the shortest interatomic distance (Å) and `volume_per_unit`
the cell volume per formula unit (Å³), both as closed forms of the lattice constant a."""
from __future__ import annotations

import math

from ..errors import InputError

BINARY = ("rocksalt", "cesiumchloride", "zincblende")
ELEMENTAL = ("bcc", "fcc", "hcp")
IDEAL_C_OVER_A = math.sqrt(8.0 / 3.0)

# the shortest distance / a, and the volume per formula unit / a³, of each structure
_NN = {"rocksalt": 0.5, "cesiumchloride": math.sqrt(3.0) / 2.0, "zincblende": math.sqrt(3.0) / 4.0,
       "bcc": math.sqrt(3.0) / 2.0, "fcc": 1.0 / math.sqrt(2.0), "hcp": 1.0}
_VOLUME = {"rocksalt": 0.25, "cesiumchloride": 1.0, "zincblende": 0.25, "bcc": 0.5, "fcc": 0.25}


def build(symbols, structure: str, a: float, c_over_a: float | None = None, cubic: bool = False):
    """The crystal of `symbols` ([A, B] for a binary, [A] for an element) with lattice constant a (Å)."""
    from ase.build import bulk

    symbols = list(symbols)
    if structure in BINARY:
        if len(symbols) != 2:
            raise InputError(f"{structure} needs two elements (got {symbols})")
    elif structure in ELEMENTAL:
        if len(symbols) != 1:
            raise InputError(f"{structure} is a structure of one element (got {symbols})")
    else:
        raise InputError(f"unknown crystal structure {structure!r}: use one of {', '.join(BINARY + ELEMENTAL)}")
    if not (a > 0 and math.isfinite(a)):
        raise InputError(f"lattice constant must be a positive length in Å (got {a})")
    name = "".join(symbols)
    if structure == "hcp":
        return bulk(name, "hcp", a=a, c=a * (c_over_a or IDEAL_C_OVER_A))
    return bulk(name, structure, a=a, cubic=cubic)


def nearest_neighbour(structure: str, a: float, c_over_a: float | None = None) -> float:
    """Shortest interatomic distance (Å) of the structure at lattice constant a (Å)."""
    if structure == "hcp":
        c = a * (c_over_a or IDEAL_C_OVER_A)
        return min(a, math.sqrt(a * a / 3.0 + c * c / 4.0))
    return _NN[structure] * a


def volume_per_unit(structure: str, a: float, c_over_a: float | None = None) -> float:
    """Cell volume per formula unit (AB or A), Å³."""
    if structure == "hcp":
        return math.sqrt(3.0) / 4.0 * a * a * a * (c_over_a or IDEAL_C_OVER_A)
    return _VOLUME[structure] * a ** 3


def lattice_constant(structure: str, volume: float, c_over_a: float | None = None) -> float:
    """Inverse of volume_per_unit: a (Å) from the volume per formula unit (Å³)."""
    unit = volume_per_unit(structure, 1.0, c_over_a)
    return (volume / unit) ** (1.0 / 3.0)


def formula_units(atoms, structure: str) -> int:
    """Formula units in a cell of the structure (2 atoms per AB unit for binaries)."""
    n = len(atoms)
    return n // 2 if structure in BINARY else n
