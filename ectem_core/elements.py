"""Periodic data for H-Kr: symbols, nuclear charges, ground-state configurations,
multiplicities and terms of atoms and ions, frozen-core sizes, covalent radii, Pauling
electronegativities and published reference ionization energies / electron affinities.

Ground configurations (docs/model.md section 1, "state rule"): main-group atoms and ions
fill 1s 2s 2p 3s 3p 4s 3d 4p in order, with 3d complete (core) from Ga on and empty in
K and Ca (so Ca⁻ is 4s² 4p¹); the 3d block (Sc-Zn) and its ions take the experimental
ground configuration of NIST ASD (Ni 3d⁸4s² ³F, Ni⁺ 3d⁹ ²D, Cu 3d¹⁰4s¹ ²S, Cr 3d⁵4s¹ ⁷S, ...).
Multiplicity and term follow Hund's first two rules within the open shells.

Reference data ship in ``ectem_core/data`` (copied from the project's shared references,
each file citing its source in its header).
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

from .errors import InputError

HARTREE_EV = 27.211386245988  # CODATA 2018
BOHR_ANGSTROM = 0.529177210903

SYMBOLS = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr",
)
TRANSITION_METALS = SYMBOLS[20:30]   # Sc-Zn: configurations from NIST ASD, not from Aufbau
MAX_ELECTRONS = 37                   # Kr⁻ is the largest state the tables describe

# Experimental ground configurations of the 3d-block atoms and ions beyond [Ar] (NIST ASD,
# A. Kramida et al., NIST Atomic Spectra Database v5.11, 2023), keyed by (symbol, charge).
# Anions: Andersen, Haugen & Hotop, J. Phys. Chem. Ref. Data 28, 1511 (1999); Mn⁻ and Zn⁻ are
# unbound, written with the next 4p electron so that a computed (unbound) anion is well defined.
_TM_VALENCE = {
    "Sc": {-1: "3d1 4s2 4p1", 0: "3d1 4s2", 1: "3d1 4s1", 2: "3d1", 3: ""},
    "Ti": {-1: "3d3 4s2", 0: "3d2 4s2", 1: "3d2 4s1", 2: "3d2", 3: "3d1"},
    "V": {-1: "3d4 4s2", 0: "3d3 4s2", 1: "3d4", 2: "3d3", 3: "3d2"},
    "Cr": {-1: "3d5 4s2", 0: "3d5 4s1", 1: "3d5", 2: "3d4", 3: "3d3"},
    "Mn": {-1: "3d5 4s2 4p1", 0: "3d5 4s2", 1: "3d5 4s1", 2: "3d5", 3: "3d4"},
    "Fe": {-1: "3d7 4s2", 0: "3d6 4s2", 1: "3d6 4s1", 2: "3d6", 3: "3d5"},
    "Co": {-1: "3d8 4s2", 0: "3d7 4s2", 1: "3d8", 2: "3d7", 3: "3d6"},
    "Ni": {-1: "3d9 4s2", 0: "3d8 4s2", 1: "3d9", 2: "3d8", 3: "3d7"},
    "Cu": {-1: "3d10 4s2", 0: "3d10 4s1", 1: "3d10", 2: "3d9", 3: "3d8"},
    "Zn": {-1: "3d10 4s2 4p1", 0: "3d10 4s2", 1: "3d10 4s1", 2: "3d10", 3: "3d9"},
}
_AUFBAU = ("1s", "2s", "2p", "3s", "3p", "4s", "3d", "4p", "5s")
_CAPACITY = {"s": 2, "p": 6, "d": 10}
_SHELL_TOKEN = re.compile(r"^([1-9])([spd])([0-9]{1,2})$")

# Covalent radii (Å), Cordero et al., Dalton Trans. 2008, 2832 (C: sp3; Mn, Fe, Co high spin).
COVALENT_RADIUS_ANGSTROM = {
    "H": 0.31, "He": 0.28, "Li": 1.28, "Be": 0.96, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66,
    "F": 0.57, "Ne": 0.58, "Na": 1.66, "Mg": 1.41, "Al": 1.21, "Si": 1.11, "P": 1.07, "S": 1.05,
    "Cl": 1.02, "Ar": 1.06, "K": 2.03, "Ca": 1.76, "Sc": 1.70, "Ti": 1.60, "V": 1.53, "Cr": 1.39,
    "Mn": 1.61, "Fe": 1.52, "Co": 1.50, "Ni": 1.24, "Cu": 1.32, "Zn": 1.22, "Ga": 1.22, "Ge": 1.20,
    "As": 1.19, "Se": 1.20, "Br": 1.20, "Kr": 1.16,
}
# Pauling electronegativities (CRC Handbook of Chemistry and Physics, 97th ed., 9-102; Kr from
# Allen & Huheey 1980); None for He, Ne, Ar (no compounds). Used to order and classify pairs.
PAULING_ELECTRONEGATIVITY = {
    "H": 2.20, "He": None, "Li": 0.98, "Be": 1.57, "B": 2.04, "C": 2.55, "N": 3.04, "O": 3.44,
    "F": 3.98, "Ne": None, "Na": 0.93, "Mg": 1.31, "Al": 1.61, "Si": 1.90, "P": 2.19, "S": 2.58,
    "Cl": 3.16, "Ar": None, "K": 0.82, "Ca": 1.00, "Sc": 1.36, "Ti": 1.54, "V": 1.63, "Cr": 1.66,
    "Mn": 1.55, "Fe": 1.83, "Co": 1.88, "Ni": 1.91, "Cu": 1.90, "Zn": 1.65, "Ga": 1.81, "Ge": 2.01,
    "As": 2.18, "Se": 2.55, "Br": 2.96, "Kr": 3.00,
}


def atomic_number(symbol: str) -> int:
    """Nuclear charge Z of an element symbol (case-sensitive, e.g. 'Li')."""
    try:
        return SYMBOLS.index(symbol) + 1
    except ValueError:
        raise InputError(
            f"unknown element symbol {symbol!r}: ectem supports {', '.join(SYMBOLS)} "
            "(write symbols with a capital first letter, e.g. 'Li')"
        ) from None


def _check_n(n_electrons: int) -> int:
    n = int(n_electrons)
    if not 0 <= n <= MAX_ELECTRONS:
        raise InputError(f"no ground-state data for {n_electrons} electrons (supported: 0-{MAX_ELECTRONS})")
    return n


def _fill(n: int, order) -> list[tuple[str, int]]:
    out, left = [], n
    for shell in order:
        if left <= 0:
            break
        k = min(left, _CAPACITY[shell[-1]])
        out.append((shell, k))
        left -= k
    if left > 0:
        raise InputError(f"no ground-state data for {n} electrons (supported: 0-{MAX_ELECTRONS})")
    return out


def _shells(n_electrons: int, z: int | None) -> list[tuple[str, int]]:
    """(shell, occupation) of the ground configuration of an N-electron atom/ion of nuclear
    charge z (z=None: the isoelectronic neutral atom), in (n, l) order."""
    n = _check_n(n_electrons)
    if n == 0:
        return []
    z = n if z is None else int(z)
    sym = SYMBOLS[z - 1] if 1 <= z <= len(SYMBOLS) else None
    if sym in _TM_VALENCE and (z - n) in _TM_VALENCE[sym]:
        core = _fill(18, _AUFBAU)
        val = [(m.group(1) + m.group(2), int(m.group(3)))
               for m in (_SHELL_TOKEN.match(t) for t in _TM_VALENCE[sym][z - n].split())]
        shells = core + val
    elif sym in _TM_VALENCE:
        raise InputError(f"{sym} with charge {z - n:+d}: ectem knows the 3d-block ground configurations of "
                         "charges -1 to +3 only")
    elif n > 18 and z <= 20:          # K, Ca and their ions: no 3d electrons
        shells = _fill(n, ("1s", "2s", "2p", "3s", "3p", "4s", "4p", "5s"))
    elif n > 18 and z >= 31:          # Ga-Kr: 3d10 is core
        shells = _fill(18, _AUFBAU) + ([("3d", min(10, n - 18))] if n > 18 else [])
        if n > 28:
            shells += _fill(n - 28, ("4s", "4p", "5s"))
    elif n > 18:                      # isoelectronic neutral is itself a 3d-block atom
        return _shells(n, n) if n <= 30 else _shells(n, 31 if n <= 36 else 36)
    else:
        shells = _fill(n, _AUFBAU)
    key = {s: i for i, s in enumerate(("1s", "2s", "2p", "3s", "3p", "3d", "4s", "4p", "5s"))}
    return sorted(shells, key=lambda t: key[t[0]])


def ground_configuration(n_electrons: int, z: int | None = None) -> str:
    """Ground configuration, e.g. (9) -> '1s2 2s2 2p5'; (28, 28) -> '... 3d8 4s2'; (27, 28) -> '... 3d9'."""
    return " ".join(f"{s}{k}" for s, k in _shells(n_electrons, z))


_L_MAX = {"s": 0, "p": 1, "d": 2}


def _hund(shells) -> tuple[int, int]:
    """(2S, L) of the lowest term of a configuration by Hund's first two rules."""
    two_s, big_l = 0, 0
    for shell, k in shells:
        l = _L_MAX[shell[-1]]
        m = 2 * l + 1
        if k in (0, 2 * m):
            continue
        up, down = min(k, m), max(0, k - m)
        two_s += up - down
        ml = list(range(l, -l - 1, -1))
        big_l += abs(sum(ml[:up]) + sum(ml[:down]))
    return two_s, big_l


def multiplicity(n_electrons: int, z: int | None = None) -> int:
    """Ground-state spin multiplicity 2S+1 of an N-electron atom or ion of nuclear charge z
    (z=None: the isoelectronic neutral atom)."""
    if _check_n(n_electrons) == 0:
        return 1
    return _hund(_shells(n_electrons, z))[0] + 1


def term_symbol(n_electrons: int, z: int | None = None) -> str:
    """Ground term like '2S', '3P' or '3F' for an N-electron atom or ion."""
    if _check_n(n_electrons) == 0:
        return "bare"
    two_s, big_l = _hund(_shells(n_electrons, z))
    return f"{two_s + 1}{'SPDFGHI'[big_l]}"


def n_core_orbitals(symbol: str) -> int:
    """Frozen-core size (spatial orbitals) used with valence basis sets: 1s for Li-Ne, [Ne] for
    Na-Ca (K and Ca keep 3s3p in the correlation: they lie within 1.5 Ha of 4s), [Ar] for Sc-Zn
    (3s3p frozen, 3d4s correlated), [Ar]3d10 for Ga-Kr (docs/model.md section 1)."""
    z = atomic_number(symbol)
    if z <= 2:
        return 0
    if z <= 10:
        return 1
    if z <= 20:
        return 5
    if z <= 30:
        return 9
    return 14


@lru_cache(maxsize=None)
def _reference_rows(name: str) -> dict[str, dict[str, str]]:
    text = resources.files("ectem_core.data").joinpath(name).read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return {row["symbol"]: row for row in csv.DictReader(lines)}


def experimental_ip_ev(symbol: str) -> float:
    """First ionization energy in eV (NIST ASD; H includes the reduced-mass effect)."""
    atomic_number(symbol)
    return float(_reference_rows("ionization_and_affinity.csv")[symbol]["ionization_energy_eV"])


def experimental_ea_ev(symbol: str) -> float | None:
    """Electron affinity in eV (Rienstra-Kiracofe 2002), or None where the anion is unbound."""
    atomic_number(symbol)
    value = _reference_rows("ionization_and_affinity.csv")[symbol]["electron_affinity_eV"]
    return float(value) if value.strip() else None


def nist_lda_energy(symbol: str) -> float:
    """NIST spherical non-spin-polarized LDA (VWN) total energy in hartree (Kotochigova 1997)."""
    atomic_number(symbol)
    rows = _reference_rows("nist_lda_total_energies.csv")
    if symbol not in rows:
        raise InputError(f"no NIST LDA reference energy for {symbol} in ectem's table (H-Ar only)")
    return float(rows[symbol]["E_lda_hartree"])
