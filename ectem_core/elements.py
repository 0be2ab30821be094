"""Periodic data for H-Ar: symbols, nuclear charges, ground-state multiplicities,
frozen-core sizes and published reference ionization energies / electron affinities.

Reference data ship in ``ectem_core/data`` (copied from the project's shared references,
each file citing its source in its header).
"""
from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

from .errors import InputError

HARTREE_EV = 27.211386245988  # CODATA 2018
BOHR_ANGSTROM = 0.529177210903

SYMBOLS = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
)

# Ground-state spin multiplicity 2S+1 of an atom or ion with N electrons (Hund's rule,
# Aufbau configuration of the isoelectronic neutral atom), N = 1..19.
_MULTIPLICITY_BY_N = {
    1: 2, 2: 1, 3: 2, 4: 1, 5: 2, 6: 3, 7: 4, 8: 3, 9: 2, 10: 1,
    11: 2, 12: 1, 13: 2, 14: 3, 15: 4, 16: 3, 17: 2, 18: 1, 19: 2,
}
# Ground-state orbital angular momentum L by electron count (term letter S/P/D...).
_TERM_L_BY_N = {
    1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 0, 8: 1, 9: 1, 10: 0,
    11: 0, 12: 0, 13: 1, 14: 1, 15: 0, 16: 1, 17: 1, 18: 0, 19: 0,
}
# Ground-state Aufbau configurations by electron count.
_SHELLS = ("1s", "2s", "2p", "3s", "3p", "4s")
_CAPACITY = {"s": 2, "p": 6, "d": 10}


def atomic_number(symbol: str) -> int:
    """Nuclear charge Z of an element symbol (case-sensitive, e.g. 'Li')."""
    try:
        return SYMBOLS.index(symbol) + 1
    except ValueError:
        raise InputError(
            f"unknown element symbol {symbol!r}: ectem supports {', '.join(SYMBOLS)} "
            "(write symbols with a capital first letter, e.g. 'Li')"
        ) from None


def multiplicity(n_electrons: int) -> int:
    """Ground-state spin multiplicity (2S+1) for an atom/ion with this many electrons."""
    if n_electrons == 0:
        return 1
    try:
        return _MULTIPLICITY_BY_N[n_electrons]
    except KeyError:
        raise InputError(f"no ground-state data for {n_electrons} electrons (supported: 0-19)") from None


def term_symbol(n_electrons: int) -> str:
    """Ground term like '2S' or '3P' for an N-electron atom or ion."""
    if n_electrons == 0:
        return "bare"
    return f"{multiplicity(n_electrons)}{'SPDF'[_TERM_L_BY_N[n_electrons]]}"


def ground_configuration(n_electrons: int) -> str:
    """Aufbau configuration string, e.g. 9 -> '1s2 2s2 2p5'."""
    left, parts = n_electrons, []
    for shell in _SHELLS:
        if left <= 0:
            break
        k = min(left, _CAPACITY[shell[-1]])
        parts.append(f"{shell}{k}")
        left -= k
    return " ".join(parts)


def n_core_orbitals(symbol: str) -> int:
    """Frozen-core size (spatial orbitals) used with valence basis sets: 1s for Li-Ne, 1s2s2p for Na-Ar."""
    z = atomic_number(symbol)
    if z <= 2:
        return 0
    if z <= 10:
        return 1
    return 5


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
    return float(_reference_rows("nist_lda_total_energies.csv")[symbol]["E_lda_hartree"])
