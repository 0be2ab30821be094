"""Diatomic molecules for the stage-5 benchmarks: names, atoms, spins, R grids (bohr).

A molecule is written as in chemistry ('H2', 'LiH', 'LiF', 'NaCl', 'CO'); symbols are
(A, B) in name order. Any pair of supported elements is accepted by name. The default list
is every homo- and heteronuclear pair of the element set (`default_pairs`, capped at
MAX_DEFAULT_PAIRS), each with its ground-state spin (`molecular_spin`: the X state of
Huber & Herzberg where the table has the molecule, else a valence-MO rule, docs/references.md).
The experimental r_e places the R grid; without one, the sum of covalent radii does.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..elements import (
    BOHR_ANGSTROM,
    COVALENT_RADIUS_ANGSTROM,
    PAULING_ELECTRONEGATIVITY,
    SYMBOLS,
    TRANSITION_METALS,
    atomic_number,
    multiplicity,
)
from ..errors import InputError

DEFAULT_NAMES = ("H2", "LiH", "HF", "LiF")   # the four of the paper (kept for reference and tests)
MAX_DEFAULT_PAIRS = 21                        # every pair of up to 6 elements
HALOGENS = ("F", "Cl", "Br")
RE_CITATION = ("K. P. Huber and G. Herzberg, Constants of Diatomic Molecules (Van Nostrand, 1979), "
               "via the NIST Chemistry WebBook (webbook.nist.gov)")
RADII_CITATION = "sum of covalent radii, Cordero et al., Dalton Trans. 2008, 2832"
CM1_EV = 1.0 / 8065.543937                    # 1 cm^-1 in eV (CODATA 2018)

_NAME_RE = re.compile(r"^([A-Z][a-z]?)(2|([A-Z][a-z]?))?$")


@dataclass(frozen=True)
class Experiment:
    """One row of the Huber-Herzberg table (data/diatomics_huber_herzberg.csv)."""

    name: str
    term: str
    re_angstrom: float
    we_cm1: float | None
    d0_ev: float | None
    dipole_debye: float | None
    source: str

    @property
    def two_s(self) -> int:
        return int(self.term[0]) - 1

    @property
    def de_ev(self) -> float | None:
        """D_e = D0 + w_e/2 (harmonic zero-point energy), eV."""
        if self.d0_ev is None or self.we_cm1 is None:
            return None
        return self.d0_ev + 0.5 * self.we_cm1 * CM1_EV


@lru_cache(maxsize=None)
def experimental_table() -> dict[frozenset, Experiment]:
    """Huber-Herzberg rows keyed by the unordered pair of symbols."""
    text = resources.files("ectem_core.data").joinpath("diatomics_huber_herzberg.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]

    def num(x):
        return float(x) if x.strip() else None

    out = {}
    for row in csv.DictReader(lines):
        a, b = parse_name(row["name"])
        out[frozenset((a, b))] = Experiment(row["name"], row["term"], float(row["re_angstrom"]), num(row["we_cm1"]),
                                            num(row["d0_ev"]), num(row["dipole_debye"]), row["source"])
    return out


def experiment(a: str, b: str) -> Experiment | None:
    return experimental_table().get(frozenset((a, b)))


@dataclass(frozen=True)
class Diatomic:
    """One diatomic: A at the origin, B on +z. spins are 2S of each free atom's ground state;
    spin is 2S of the molecule's ground state (spin_source says where it comes from)."""

    name: str
    symbols: tuple[str, str]
    spins: tuple[int, int]
    re_guess_bohr: float
    spin: int = 0
    spin_source: str = "valence-MO rule"
    re_source: str = RE_CITATION

    @property
    def n_electrons(self) -> int:
        return sum(atomic_number(s) for s in self.symbols)

    def to_dict(self) -> dict:
        return {"name": self.name, "symbols": list(self.symbols), "spins": list(self.spins),
                "re_guess_bohr": self.re_guess_bohr, "re_guess_source": self.re_source,
                "spin": self.spin, "multiplicity": self.spin + 1, "spin_source": self.spin_source}


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


def canonical_name(a: str, b: str) -> str:
    """Chemists' order: 'A2' for a homonuclear pair; H first only before a halogen (HF, HCl, but
    LiH, CH, OH); otherwise the less electronegative (Pauling) atom first (LiF, CO, NO, NaCl),
    noble gases last, ties by Z."""
    if a == b:
        return f"{a}2"
    if "H" in (a, b):
        other = b if a == "H" else a
        return f"H{other}" if other in HALOGENS else f"{other}H"

    def key(s):
        chi = PAULING_ELECTRONEGATIVITY[s]
        return (chi is None, chi if chi is not None else 0.0, atomic_number(s))
    x, y = sorted((a, b), key=key)
    return f"{x}{y}"


def _valence(s: str) -> int | None:
    """Valence s/p electrons of a main-group atom (None for the 3d block)."""
    z = atomic_number(s)
    if s in TRANSITION_METALS:
        return None
    for core, limit in ((0, 2), (2, 10), (10, 18), (18, 20), (28, 36)):
        if z <= limit:
            return z - core
    return None


def mo_rule_spin(a: str, b: str) -> int:
    """2S of the ground state by filling valence MOs built from s and p (Hund's rule in
    degenerate levels). Orderings: first-row pairs with <= 10 valence electrons (s-p mixing)
    σs σs* π σp π* σp*; hydrides and polar pairs (|Δχ| >= 1) σ σ π σ* π* σ*; other pairs
    σs σs* σp π π* σp*, where σp and π count as one near-degenerate level in homonuclear-like
    pairs of heavier atoms (Al2, Si2, Ga2, Ge2: triplets). A pair with a 3d-block atom takes
    the lowest spin of its electron parity (no rule; flagged by the caller)."""
    va, vb = _valence(a), _valence(b)
    n_total = atomic_number(a) + atomic_number(b)
    if va is None or vb is None:
        return n_total % 2
    n = va + vb
    chi_a, chi_b = PAULING_ELECTRONEGATIVITY[a], PAULING_ELECTRONEGATIVITY[b]
    dchi = abs(chi_a - chi_b) if chi_a is not None and chi_b is not None else 0.0
    light = atomic_number(a) <= 10 and atomic_number(b) <= 10
    if (light and n <= 10) or "H" in (a, b) or dchi >= 1.0:
        levels = [1, 1, 2, 1, 2, 1]       # degeneracies of both orderings above
    elif dchi < 0.5 and not light:
        levels = [1, 1, 3, 2, 1]          # σp + π merged
    else:
        levels = [1, 1, 1, 2, 2, 1]
    two_s, left = 0, n
    for g in levels:                      # g spatial orbitals per level
        k = min(left, 2 * g)
        two_s += k if k <= g else 2 * g - k
        left -= k
        if left <= 0:
            break
    return two_s


def molecular_spin(a: str, b: str) -> tuple[int, str]:
    """(2S, source) of the ground state of A-B: the tabulated X state, else the valence-MO rule."""
    row = experiment(a, b)
    if row is not None:
        return row.two_s, f"X {row.term} ({'Huber-Herzberg' if row.source == 'HH1979' else row.source})"
    if a in TRANSITION_METALS or b in TRANSITION_METALS:
        return mo_rule_spin(a, b), "lowest spin of the electron parity (3d pair, no tabulated X state; assumed)"
    return mo_rule_spin(a, b), "valence-MO rule (no tabulated X state)"


def molecule(name: str) -> Diatomic:
    """The Diatomic for any formula of two supported elements ('NaCl', 'O2', 'FeO')."""
    a, b = parse_name(name)
    spins = (multiplicity(atomic_number(a), atomic_number(a)) - 1, multiplicity(atomic_number(b), atomic_number(b)) - 1)
    row = experiment(a, b)
    if row is not None:
        re_bohr, source = row.re_angstrom / BOHR_ANGSTROM, RE_CITATION
    else:
        re_bohr = (COVALENT_RADIUS_ANGSTROM[a] + COVALENT_RADIUS_ANGSTROM[b]) / BOHR_ANGSTROM
        source = RADII_CITATION
    spin, spin_source = molecular_spin(a, b)
    return Diatomic(name, (a, b), spins, re_bohr, spin, spin_source, source)


def default_pairs(elements, cap: int = MAX_DEFAULT_PAIRS) -> list[str]:
    """Every homonuclear pair (in the element set's order), then every heteronuclear pair
    (i < j in that order), named by `canonical_name`; the first `cap` of them."""
    els = list(dict.fromkeys(elements))
    names = [canonical_name(e, e) for e in els]
    names += [canonical_name(els[i], els[j]) for i in range(len(els)) for j in range(i + 1, len(els))]
    return names[: int(cap)]


def default_molecules(elements, names=None, production: bool = False, cap: int = MAX_DEFAULT_PAIRS) -> list[Diatomic]:
    """Molecules to benchmark for an element set.

    names (config key molecules.names) overrides the list; each must be a diatomic of
    configured elements. Otherwise every pair of the element set (`default_pairs`, at most
    `cap`). `production` is accepted for compatibility and changes nothing."""
    elements = list(elements)
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
        if len({m.name for m in out}) != len(out):
            raise InputError(f"molecules.names lists a molecule twice: {list(names)}")
        return out
    return [molecule(n) for n in default_pairs(elements, cap)]


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
    mols = default_molecules(config["elements"], sec.get("names"), cap=int(sec.get("max_pairs", MAX_DEFAULT_PAIRS)))
    return MoleculeSettings(tuple(mols), Level(**level_cfg), int(sec.get("n_points", 12)),
                            float(sec.get("r_max_bohr", 20.0)),
                            tuple(sec.get("density_points", ("Re", "2Re", 20.0))),
                            bool(sec.get("multireference", False)))
