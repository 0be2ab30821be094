"""Which atomic states exist: ids, charges, electron counts, configurations.

A state is (element, charge, label). Ids are stable strings used everywhere:
``H0``, ``H+1``, ``H-1``, ``Li0_2P``, ``Li+2``. Excited states carry a label after ``_``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import elements
from ..errors import InputError

_ID_RE = re.compile(r"^([A-Z][a-z]?)(0|[+-][1-9])(?:_([A-Za-z0-9]+))?$")
_SHELL_RE = re.compile(r"^([1-9])([spd])([0-9]{1,2})$")

# D2h irreps of the real s, p, d functions of an atom (PySCF's labels).
# d: both Ag functions (z², x²−y²) first, so that a d-shell filled beside a 4s electron of the same
# spin takes every valence Ag orbital and the 4s occupation is fixed too (Ni 3d8 4s2, Co 3d7 4s2).
_IRREPS = {"s": ("Ag",), "p": ("B3u", "B2u", "B1u"), "d": ("Ag", "Ag", "B1g", "B2g", "B3g")}


@dataclass(frozen=True)
class AtomState:
    """One isolated-atom state.

    kind: 'ground' (lowest state of that charge), 'excited' (configuration fixed by
    symmetry), 'bare' (no electrons: exact), 'analytic' (closed form, e.g. H n=2).
    role: 'state' (enters the ensemble) or 'aux' (energy only: the next ion of a cation).
    """

    symbol: str
    charge: int
    label: str = ""
    kind: str = "ground"
    configuration: str = ""
    role: str = "state"
    expected_excitation_ev: float | None = None
    irrep_nelec: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def Z(self) -> int:
        return elements.atomic_number(self.symbol)

    @property
    def n_electrons(self) -> int:
        return self.Z - self.charge

    @property
    def multiplicity(self) -> int:
        if self.kind == "excited":
            return 1 + sum(a - b for a, b in _spin_counts(self.configuration))
        if self.kind == "analytic":
            return 2
        return elements.multiplicity(self.n_electrons, self.Z)

    @property
    def spin(self) -> int:
        """2S, PySCF's convention."""
        return self.multiplicity - 1

    @property
    def state_id(self) -> str:
        base = f"{self.symbol}{charge_str(self.charge)}"
        return f"{base}_{self.label}" if self.label else base

    def to_dict(self) -> dict:
        return {
            "state_id": self.state_id, "symbol": self.symbol, "Z": self.Z,
            "charge": self.charge, "n_electrons": self.n_electrons, "label": self.label,
            "kind": self.kind, "role": self.role, "multiplicity": self.multiplicity,
            "configuration": self.configuration or elements.ground_configuration(self.n_electrons, self.Z),
            "term": _term(self),
        }


def _term(state: AtomState) -> str:
    if state.kind == "bare":
        return "bare nucleus"
    if state.kind == "analytic":
        return "2S+2P (n=2 ensemble)"
    if state.kind == "excited":
        return f"{state.multiplicity}{state.label[-1] if state.label[-1] in 'SPD' else '?'}"
    return elements.term_symbol(state.n_electrons, state.Z)


def charge_str(charge: int) -> str:
    """0 -> '0', 1 -> '+1', -1 -> '-1'."""
    return "0" if charge == 0 else f"{charge:+d}"


def _parse_configuration(configuration: str) -> list[tuple[int, str, int]]:
    shells = []
    for token in configuration.split():
        m = _SHELL_RE.match(token)
        if not m:
            raise InputError(
                f"bad configuration token {token!r} in {configuration!r}: write shells like '1s2 2p1'"
            )
        n, l, k = int(m.group(1)), m.group(2), int(m.group(3))
        cap = {"s": 2, "p": 6, "d": 10}[l]
        if k > cap:
            raise InputError(f"shell {token!r} holds at most {cap} electrons")
        shells.append((n, l, k))
    return shells


def _spin_counts(configuration: str) -> list[tuple[int, int]]:
    """(alpha, beta) electrons per shell by Hund's rule."""
    out = []
    for _, l, k in _parse_configuration(configuration):
        m = {"s": 1, "p": 3, "d": 5}[l]
        a = min(k, m)
        out.append((a, k - a))
    return out


def irrep_occupations(configuration: str) -> dict[str, tuple[int, int]]:
    """D2h irrep -> (alpha, beta) electron counts for a configuration, Hund's rule within
    each shell; used to fix occupations by symmetry (Delta-SCF)."""
    occ: dict[str, list[int]] = {}
    for (_n, l, _k), (a, b) in zip(_parse_configuration(configuration), _spin_counts(configuration)):
        irreps = _IRREPS[l]
        for spin_index, count in ((0, a), (1, b)):
            for i in range(count):
                entry = occ.setdefault(irreps[i], [0, 0])
                entry[spin_index] += 1
    return {k: (v[0], v[1]) for k, v in occ.items()}


def parse_state_id(state_id: str) -> tuple[str, int, str]:
    """'Li0_2P' -> ('Li', 0, '2P'). Raises InputError for malformed ids."""
    m = _ID_RE.match(state_id)
    if not m:
        raise InputError(
            f"bad state id {state_id!r}: expected e.g. 'Li0', 'Li+1', 'F-1', 'Li0_2P'"
        )
    symbol, charge, label = m.group(1), int(m.group(2)), m.group(3) or ""
    elements.atomic_number(symbol)
    return symbol, charge, label


def make_state(symbol: str, charge: int = 0, label: str = "", excited: list[dict] | None = None,
               role: str = "state") -> AtomState:
    """Build a state; an excited label must be defined in `excited` (config entries) or be
    one of the built-in ones ('n2' for hydrogen, '2P' for lithium)."""
    z = elements.atomic_number(symbol)
    if charge > z:
        raise InputError(f"charge {charge:+d} is impossible for {symbol} (Z={z})")
    if z - charge > elements.MAX_ELECTRONS:
        raise InputError(f"{symbol}{charge_str(charge)} has {z - charge} electrons; ectem supports up to "
                         f"{elements.MAX_ELECTRONS}")
    if not label:
        kind = "bare" if charge == z else "ground"
        return AtomState(symbol, charge, kind=kind, role=role)
    for spec in (excited or []) + builtin_excited(symbol):
        if spec["label"] == label and int(spec.get("charge", 0)) == charge:
            return excited_state(symbol, spec)
    raise InputError(
        f"unknown state label {label!r} for {symbol}{charge_str(charge)}: define it under "
        f"states.excited.{symbol} in the config (label + configuration)"
    )


def builtin_excited(symbol: str) -> list[dict]:
    """Excited states known without config: H n=2 (analytic) and Li 1s2 2p (2P)."""
    if symbol == "H":
        return [{"label": "n2", "analytic": True, "expected_excitation_eV": 10.2043}]
    if symbol == "Li":
        return [{"label": "2P", "configuration": "1s2 2p1", "expected_excitation_eV": 1.848}]
    return []


def excited_state(symbol: str, spec: dict) -> AtomState:
    """An excited state from a config entry {label, configuration | analytic, charge?}."""
    charge = int(spec.get("charge", 0))
    label = spec["label"]
    expected = spec.get("expected_excitation_eV")
    if spec.get("analytic"):
        if symbol != "H" or charge != 0 or label != "n2":
            raise InputError(
                f"analytic excited state {symbol}{charge_str(charge)}_{label}: only hydrogen 'n2' is analytic"
            )
        return AtomState(symbol, 0, label, kind="analytic", expected_excitation_ev=expected)
    conf = spec.get("configuration", "")
    shells = _parse_configuration(conf)
    n = sum(k for _, _, k in shells)
    z = elements.atomic_number(symbol)
    if n != z - charge:
        raise InputError(
            f"configuration {conf!r} of {symbol}{charge_str(charge)}_{label} has {n} electrons, "
            f"expected {z - charge}"
        )
    return AtomState(symbol, charge, label, kind="excited", configuration=conf,
                     expected_excitation_ev=expected)


def default_states(symbol: str, anions: bool = True, excited: list[dict] | None = None,
                   use_builtin_excited: bool = True) -> list[AtomState]:
    """The default state set of an element: neutral ground, cation +1, anion -1 (kept only
    if bound, decided later at the energy level), excited states, and the next ion of the
    cation (role 'aux', energy only) that the cation's ionization energy needs."""
    z = elements.atomic_number(symbol)
    out = [make_state(symbol, 0), make_state(symbol, +1)]
    if anions:
        out.append(make_state(symbol, -1))
    specs = list(excited or [])
    if use_builtin_excited:
        labels = {s["label"] for s in specs}
        specs += [s for s in builtin_excited(symbol) if s["label"] not in labels]
    out += [excited_state(symbol, s) for s in specs]
    if z >= 2:
        out.append(make_state(symbol, +2, role="aux"))
    return out
