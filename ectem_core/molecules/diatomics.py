"""Diatomic molecules for the stage-5 benchmarks: names, atoms, spins, R grids (bohr).

A molecule is written as in chemistry ('H2', 'LiH', 'LiF', 'NaCl', 'CO'); symbols are
(A, B) in name order. Equilibrium distances are experimental r_e (Huber & Herzberg,
*Constants of Diatomic Molecules*, 1979, as tabulated in the NIST Chemistry WebBook),
used only as a guess to place the R grid.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..elements import BOHR_ANGSTROM, SYMBOLS, atomic_number, multiplicity
from ..errors import InputError

DEFAULT_NAMES = ("H2", "LiH", "HF", "LiF")
PRODUCTION_EXTRA = ("NaCl", "NaF", "LiCl", "CO", "N2", "F2")

# Experimental r_e in angstrom: Huber & Herzberg (1979) via the NIST Chemistry WebBook.
RE_EXPERIMENT_ANGSTROM = {
    "H2": 0.74144, "LiH": 1.5949, "HF": 0.91680, "LiF": 1.5639,
    "NaCl": 2.36080, "NaF": 1.92595, "LiCl": 2.0207, "CO": 1.12832, "N2": 1.09768, "F2": 1.41193,
}
RE_CITATION = ("K. P. Huber and G. Herzberg, Constants of Diatomic Molecules (Van Nostrand, 1979), "
               "via the NIST Chemistry WebBook (webbook.nist.gov)")

_NAME_RE = re.compile(r"^([A-Z][a-z]?)(2|([A-Z][a-z]?))?$")


@dataclass(frozen=True)
class Diatomic:
    """One diatomic: A at the origin, B on +z. spins are 2S of each free atom's ground state."""

    name: str
    symbols: tuple[str, str]
    spins: tuple[int, int]
    re_guess_bohr: float

    @property
    def n_electrons(self) -> int:
        return sum(atomic_number(s) for s in self.symbols)

    def to_dict(self) -> dict:
        return {"name": self.name, "symbols": list(self.symbols), "spins": list(self.spins),
                "re_guess_bohr": self.re_guess_bohr, "re_guess_source": RE_CITATION}


def parse_name(name: str) -> tuple[str, str]:
    """'LiF' -> ('Li', 'F'); 'H2' -> ('H', 'H'). InputError for anything else."""
    m = _NAME_RE.match(str(name).strip()) if isinstance(name, str) else None
    if not m or m.group(2) is None:
        raise InputError(f"molecule name {name!r} is not a diatomic formula: write e.g. H2, LiH, LiF, NaCl")
    a = m.group(1)
    b = a if m.group(2) == "2" else m.group(3)
    for s in (a, b):
        if s not in SYMBOLS:
            raise InputError(f"molecule {name!r}: unknown element {s!r} (supported: {', '.join(SYMBOLS)})")
    return a, b


def molecule(name: str) -> Diatomic:
    """The Diatomic for one of the known names (DEFAULT_NAMES + PRODUCTION_EXTRA)."""
    a, b = parse_name(name)
    if name not in RE_EXPERIMENT_ANGSTROM:
        raise InputError(f"molecule {name!r} is not in ectem's list "
                         f"({', '.join(DEFAULT_NAMES + PRODUCTION_EXTRA)}); pick one of these")
    spins = (multiplicity(atomic_number(a)) - 1, multiplicity(atomic_number(b)) - 1)
    return Diatomic(name, (a, b), spins, RE_EXPERIMENT_ANGSTROM[name] / BOHR_ANGSTROM)


def default_molecules(elements, names=None, production: bool = False) -> list[Diatomic]:
    """Molecules to benchmark for an element set.

    names (config key molecules.names) overrides the list; each must be known and made of
    configured elements. Otherwise the default list (plus the production extras if
    `production`) restricted to molecules whose elements are all in `elements`."""
    elements = set(elements)
    for s in elements:
        atomic_number(s)
    if names is not None:
        if isinstance(names, str):
            raise InputError(f"molecules.names must be a list such as [H2, LiF], not the string {names!r}")
        out = []
        for n in names:
            mol = molecule(n)
            missing = [s for s in mol.symbols if s not in elements]
            if missing:
                raise InputError(f"molecule {n!r} needs element(s) {', '.join(sorted(set(missing)))} not in the "
                                 f"element set ({', '.join(sorted(elements))}); add them to 'elements' or drop {n}")
            out.append(mol)
        return out
    pool = DEFAULT_NAMES + (PRODUCTION_EXTRA if production else ())
    return [molecule(n) for n in pool if set(parse_name(n)) <= elements]


def r_grid(mol: Diatomic, n_points: int = 12, r_max: float = 20.0) -> np.ndarray:
    """At most n_points distances (bohr) from 0.75 Re to r_max, denser near Re, ending at r_max.

    About half the points are evenly spaced over the well, 0.75-1.25 Re (so a parabola
    through the three lowest is a fair Re estimate); the rest grow geometrically from
    1.25 Re to r_max (the approach to dissociation and the ionic/covalent crossing)."""
    n = int(n_points)
    re_ = float(mol.re_guess_bohr)
    if n < 4:
        raise InputError(f"n_points = {n_points}: use at least 4 points for a dissociation curve")
    if not r_max > 2.0 * re_:
        raise InputError(f"r_max = {r_max} bohr is too short for {mol.name} (Re ≈ {re_:.2f} bohr): "
                         f"use r_max > 2 Re, e.g. 20 bohr")
    n_near = max(3, (n + 1) // 2)
    near = np.linspace(0.75 * re_, 1.25 * re_, n_near)
    far = np.geomspace(1.25 * re_, float(r_max), n - n_near + 1)[1:]
    r = np.concatenate([near, far])
    r[-1] = float(r_max)
    return np.round(r, 4)


DEFAULT_LEVEL = {"method": "ccsd(t)", "basis": "aug-cc-pvdz", "frozen_core": True}


@dataclass(frozen=True)
class MoleculeSettings:
    """Stage-5 settings from the config section `molecules` (docs/references.md)."""

    molecules: tuple
    level: object
    n_points: int = 12
    r_max: float = 20.0
    density_points: tuple = ("Re", "2Re", 20.0)
    multireference: bool = False

    def get(self, name: str) -> Diatomic:
        for m in self.molecules:
            if m.name == name:
                return m
        raise InputError(f"molecule {name!r} is not configured (configured: "
                         f"{', '.join(m.name for m in self.molecules) or 'none'})")


def settings_from_config(config: dict) -> MoleculeSettings:
    """Molecules to benchmark and the reference level. No `molecules` section: the default
    list restricted to the element set at CCSD(T)/aug-cc-pVDZ (frozen core), 12 points;
    `molecules: {names: []}` switches the stage off."""
    from ..qm.level import Level

    sec = dict(config.get("molecules") or {})
    level_cfg = {**DEFAULT_LEVEL, **(sec.get("level") or {})}
    if "conv_tol" not in level_cfg and "scf" in config:
        level_cfg["conv_tol"] = config["scf"].get("conv_tol", 1e-10)
    mols = default_molecules(config["elements"], sec.get("names"))
    return MoleculeSettings(tuple(mols), Level(**level_cfg), int(sec.get("n_points", 12)),
                            float(sec.get("r_max_bohr", 20.0)),
                            tuple(sec.get("density_points", ("Re", "2Re", 20.0))),
                            bool(sec.get("multireference", False)))
