"""LAMMPS export of the ECT-EAM energy at fixed integer states: an eam/fs setfl whose "elements"
are (element, state) types, plus the point-charge Coulomb energy of the states' charges.

Where the CPE solution of a structure is integer (every atom entirely in one state s_i, e.g.
Li⁺ F⁻ in rock-salt LiF for the pure model), the ECT-EAM energy at those weights is

    E = Σ_i [ΔE_{s_i} + F_{s_i}(ρ̄_i)] + ½ Σ_{i≠j} φ_{s_i s_j}(R_ij) + ½ Σ_{i≠j} q_{s_i} q_{s_j} / R_ij,
    ρ̄_i = Σ_{j≠i} K_{s_i s_j}(R_ij),

with the functions of the cutoff mode of `fastmodel.FastModel(model, cutoff_tol, switch_width,
r_max)` — the same radius R_on per state pair (s, t), the same C¹ switch
sw_st(R) = pair_tables.switch_nb(R, R_on, R_on + width), the same PairTable objects:

    K_st(R) = sw_st(R) · S_st(R) / N_s          overlap background (point: sw_st ρ_t(R); N_s = 0: point)
    φ_st(R) = sw_st(R) · [U_st(R) − q_s q_t / R]   short-range Coulomb of the two frozen states.

The coupling terms of the resonance and thermal variants vanish at integer weights
(√(w_N w_CT + ε²) − ε = 0 when w_N w_CT = 0; p ln p = 0 for p ∈ {0, 1}), so the tables are the same
for every variant; which structures have integer CPE states does depend on the variant.

Setfl (eam/fs, since K_st and sw_st depend on both types): "elements" named by the bundle's state
ids (`Li+1`, `F-1`, `Li0`, `Li0_2P`: single tokens for pair_coeff), Z and mass of the element;
embedding F_s(ρ̄) + ΔE_s in eV (an isolated atom of the type has energy ΔE_s relative to the
neutral ground atom: the energy zero of ectem); densities K_st in bohr⁻³; pair tables r·φ_st in
eV·Å. The Coulomb q_i q_j / R_ij is LAMMPS' (coul/long + kspace for periodic cells, coul/cut for
clusters) with `set type N charge q`. Files: OUT (setfl), OUT.in (LAMMPS input), OUT.md (notes).

Public API: `parse_fixed_states`, `select_types`, `FixedType`, `FixedStateFunctions`,
`build_fixed_setfl`, `render_lammps_input`, `render_fixed_notes`, `export_fixed_states`,
`fixed_weights`, `check_fixed_states`. docs/lammps.md.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...elements import BOHR_ANGSTROM, HARTREE_EV
from ...errors import InputError
from ..pair_tables import COULOMB, switch
from .setfl import (
    EV_ANGSTROM,
    R_VALID_MIN_BOHR,
    Setfl,
    element_masses,
    error_table_lines,
    measure_errors,
    notes_path,
    render_setfl,
    write_files,
)

DEFAULT_CUTOFF_TOL = 1e-6       # FastModel cutoff_tol: kernels (bohr⁻³) and U − qq/R (Ha) below it beyond R_on
DEFAULT_R_MAX = 12.0            # bohr, cap on every state pair's R_on + width (FastModel r_max)
DEFAULT_SWITCH_WIDTH = 2.0      # bohr, FastModel switch_width
DEFAULT_NR = 20000
DEFAULT_NRHO = 200000
DEFAULT_COUL_CUTOFF = 10.0      # Å, real-space cut-off of coul/long (the Ewald split; kspace sets the accuracy)
DEFAULT_KSPACE_ACCURACY = 1e-10
N_NEIGHBOURS_RHO_MAX = 12       # default ρ̄_max = 12 neighbours at RHO_MAX_DISTANCE of the densest type pair
RHO_MAX_DISTANCE = 2.0          # bohr: ρ̄ of ions is ~0.003–0.006 bohr⁻³ in LiF; 12 neighbours at 1 bohr (the
                                # plain export's rule) would waste 7× the resolution where it matters, ρ̄ → 0
LAMMPS_METAL_QQR2E = 14.399645  # e²/4πε₀ in eV·Å that LAMMPS uses in `units metal` (src/update.cpp)
DIELECTRIC = LAMMPS_METAL_QQR2E / EV_ANGSTROM   # `dielectric` that turns it into CODATA 2018 (ectem's)
_R_ZERO = 1e-9                  # r·U^sr is finite at r = 0: evaluated here for the r = 0 knot
_SHORTHAND = re.compile(r"^([A-Z][a-z]?)([0+-])$")
_TOKEN = re.compile(r"^[A-Za-z0-9_+.-]+$")


# ------------------------------------------------------------------------------ types

@dataclass(frozen=True)
class FixedType:
    """One LAMMPS atom type: an element in one of its bundle states."""

    name: str          # setfl element name and pair_coeff token: the bundle's state id
    symbol: str
    element: int       # index of the element in the potential
    state: int         # index of the state in the element's ensemble
    Z: int
    charge: int
    n_electrons: int
    delta_e: float     # hartree, relative to the neutral ground state
    label: str = ""


def parse_fixed_states(spec: str) -> list[str] | None:
    """`default` → None (for each element its neutral ground state and its +1/−1 ground ions);
    otherwise the comma-separated items, each `STATE` or `EL:STATE` with STATE a bundle state id
    (`Li+1`, `F-1`, `Li0_2P`) or the shorthand `Li0`, `Li+`, `F-` (neutral ground state, +1, −1
    ground ion). Items are resolved against a bundle by `select_types`."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("--fixed-states is empty: give 'default' or types such as Li+,F- (or Li+1,F-1)")
    s = spec.strip()
    if s.lower() == "default":
        return None
    items = [x.strip() for x in s.split(",")]
    if any(not x for x in items):
        raise InputError(f"--fixed-states {spec!r}: an empty item; give types separated by commas, e.g. Li+,F-")
    return items


def _type(pot, bundle: dict, k: int, s: int) -> FixedType:
    e = pot.elements[k]
    labels = {st["state_id"]: st.get("label") or "" for st in bundle.get("states", [])}
    return FixedType(e.state_ids[s], e.symbol, k, s, int(e.Z), int(e.charge[s]), int(e.n_electrons[s]),
                     float(e.delta_e[s]), labels.get(e.state_ids[s], ""))


def _resolve(pot, bundle: dict, item: str) -> FixedType:
    name = bundle.get("name")
    prefix = None
    state = item
    if ":" in item:
        prefix, _, state = item.partition(":")
        if not prefix or not state or ":" in state:
            raise InputError(f"--fixed-states item {item!r}: use STATE or EL:STATE, e.g. Li+ or Li:Li+1")
        if prefix not in pot.index:
            raise InputError(f"--fixed-states item {item!r}: element {prefix} not in bundle {name} "
                             f"(it has {', '.join(pot.index)})")
    found = None
    for k, e in enumerate(pot.elements):
        if state in e.state_ids:
            found = (k, e.state_ids.index(state))
    if found is None:
        m = _SHORTHAND.match(state)
        if m:
            sym, sign = m.groups()
            if sym not in pot.index:
                raise InputError(f"--fixed-states item {item!r}: element {sym} not in bundle {name} "
                                 f"(it has {', '.join(pot.index)})")
            k = pot.index[sym]
            e = pot.elements[k]
            s = {"0": e.ground, "+": e.cation, "-": e.anion}[sign]
            if s is None:
                q = {"+": 1, "-": -1}[sign]
                bare = [st["state_id"] for st in bundle.get("states", [])
                        if st.get("symbol") == sym and st.get("charge") == q and st.get("n_electrons") == 0]
                if bare:
                    raise InputError(f"--fixed-states item {item!r}: {bare[0]} is a bare nucleus, which the potential "
                                     "leaves out unless asked for (proton=True, --proton)")
                raise InputError(f"--fixed-states item {item!r}: bundle {name} has no {sym} state of charge "
                                 f"{sign}1 (states of {sym}: {', '.join(e.state_ids)})")
            found = (k, s)
    if found is None:
        excluded = [st for st in bundle.get("states", []) if st.get("state_id") == state]
        if excluded and excluded[0].get("n_electrons") == 0:
            raise InputError(f"--fixed-states item {item!r}: {state} is a bare nucleus, which the potential leaves "
                             "out unless asked for (proton=True, --proton)")
        known = [sid for e in pot.elements for sid in e.state_ids]
        raise InputError(f"--fixed-states item {item!r}: no such state in bundle {name}; give a state id "
                         f"({', '.join(known)}) or EL0 / EL+ / EL- for an element's neutral ground state and ions")
    t = _type(pot, bundle, *found)
    if prefix is not None and prefix != t.symbol:
        raise InputError(f"--fixed-states item {item!r}: state {t.name} belongs to {t.symbol}, not {prefix}")
    if not _TOKEN.match(t.name):
        raise InputError(f"state id {t.name!r} cannot be a LAMMPS element name (letters, digits and _ + - . only)")
    return t


def select_types(pot, bundle: dict, items: list[str] | None = None, elements: list[str] | None = None) -> list[FixedType]:
    """The atom types, in file order: `items` from `parse_fixed_states` resolved against the
    potential's states, or (items None) for each element — `elements` or all, bundle order — its
    neutral ground state, then its +1 and −1 ground ions where the bundle has them."""
    if items is None:
        symbols = list(elements) if elements else list(pot.index)
        missing = [s for s in symbols if s not in pot.index]
        if missing:
            raise InputError(f"element(s) {', '.join(missing)} not in bundle {bundle.get('name')} "
                             f"(it has {', '.join(pot.index)})")
        if len(set(symbols)) != len(symbols):
            raise InputError(f"--elements lists an element twice: {','.join(symbols)}")
        out = []
        for sym in symbols:
            k = pot.index[sym]
            e = pot.elements[k]
            out += [_type(pot, bundle, k, s) for s in (e.ground, e.cation, e.anion) if s is not None]
    else:
        if elements:
            raise InputError("--elements chooses the elements of '--fixed-states default'; with a list of types "
                             "give the types only")
        out = [_resolve(pot, bundle, it) for it in items]
    names = [t.name for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"--fixed-states lists a state twice: {', '.join(dup)}")
    return out


def fixed_weights(pot, system, types: list[FixedType], atom_types) -> np.ndarray:
    """The integer ECT-EAM weights of `system` with atom i in state types[atom_types[i]]
    (0-based type indices; the element must match)."""
    c = np.zeros(int(system.offsets[-1]))
    for i, ti in enumerate(atom_types):
        t = types[int(ti)]
        if int(system.element_index[i]) != t.element:
            raise InputError(f"atom {i} is {system.symbols[i]} but type {t.name} is {t.symbol}")
        c[int(system.offsets[i]) + t.state] = 1.0
    return c


# ------------------------------------------------------------------------------ functions

class FixedStateFunctions:
    """The switched cutoff-mode functions of a FastModel at fixed states (atomic units), with
    the interface `setfl.measure_errors` reads: density(a, b, r), pair(a, b, r), embedding[a]."""

    def __init__(self, pot, fm, types: list[FixedType]):
        self.pot, self.fm, self.types = pot, fm, list(types)
        self.symbols = [t.name for t in self.types]
        self.Z = [t.Z for t in self.types]
        self.background = pot.options.background
        self.width = float(fm.switch_width)
        self.embedding = [self._embedding(t) for t in self.types]

    def _embedding(self, t: FixedType):
        f = self.pot.elements[t.element].embedding[t.state]
        dE = t.delta_e

        def F(rho):
            v, d, d2 = f(rho)
            return v + dE, d, d2
        return F

    def r_on(self, a: int, b: int) -> float:
        ta, tb = self.types[a], self.types[b]
        return float(self.fm.r_on[ta.element, tb.element, ta.state, tb.state])

    def r_off(self, a: int, b: int) -> float:
        return self.r_on(a, b) + self.width

    def _tables(self, a: int, b: int):
        """(S, U, ρ of b's state at R) of the state pair (PairTable each)."""
        ta, tb = self.types[a], self.types[b]
        tabs = self.pot.pairs.tables
        if ta.element <= tb.element:
            ts = tabs[ta.element, tb.element][ta.state, tb.state]
            return ts["S"], ts["U"], ts["rho_b_at_R"]
        ts = tabs[tb.element, ta.element][tb.state, ta.state]
        return ts["S"], ts["U"], ts["rho_a_at_R"]

    def _switch(self, a: int, b: int, r):
        return switch(r, self.r_on(a, b), self.r_off(a, b))

    def density(self, a: int, b: int, r):
        """K (bohr⁻³) at an atom of type a from one of type b at r (bohr), and dK/dr."""
        r = np.asarray(r, dtype=float)
        S, _, rho_b = self._tables(a, b)
        N = self.types[a].n_electrons
        if self.background == "point" or N == 0:
            v, d = rho_b(r)
        else:
            v, d = S(r)
            v, d = v / N, d / N
        sw, dsw = self._switch(a, b, r)
        return v * sw, d * sw + v * dsw

    def pair(self, a: int, b: int, r):
        """r·φ (hartree·bohr) and d(r·φ)/dr (hartree), φ = sw · (U − q_a q_b / r)."""
        r = np.asarray(r, dtype=float)
        _, U, _ = self._tables(a, b)
        re = np.where(r > 0.0, r, _R_ZERO)
        u, du = U(re)
        qq = U.qq if U.kind == COULOMB else 0.0
        v, d = re * u - qq, u + re * du
        sw, dsw = self._switch(a, b, r)
        return v * sw, d * sw + v * dsw


# ------------------------------------------------------------------------------ tables

def _potential(bundle: dict, variant: str, background: str, proton: bool):
    from ..loader import load_potential

    return load_potential(bundle, variant=variant, background=background, proton=proton)


def build_fixed_setfl(bundle: dict, types: list[str] | None = None, elements: list[str] | None = None,
                      variant: str = "pure", background: str = "overlap", proton: bool = False,
                      cutoff_tol: float = DEFAULT_CUTOFF_TOL, r_max: float | None = DEFAULT_R_MAX,
                      switch_width: float = DEFAULT_SWITCH_WIDTH, nr: int = DEFAULT_NR, nrho: int = DEFAULT_NRHO,
                      rho_max: float | None = None) -> tuple[Setfl, FixedStateFunctions]:
    """Tabulate the fixed-state ECT-EAM functions of `bundle` (a bundle dict) for eam/fs.
    types: items of `parse_fixed_states` (None: the default set of `elements`)."""
    from ..fastmodel import FastModel

    if not (isinstance(nr, int) and nr >= 100 and isinstance(nrho, int) and nrho >= 100):
        raise InputError(f"--nr and --nrho must be integers >= 100 (got {nr}, {nrho})")
    if cutoff_tol is None or not (math.isfinite(cutoff_tol) and cutoff_tol > 0):
        raise InputError(f"--cutoff-tol must be a number > 0 (got {cutoff_tol}): the export tabulates the "
                         "cutoff mode of the fast model")
    if not (math.isfinite(switch_width) and switch_width > 0):
        raise InputError(f"--switch-width must be > 0 bohr (got {switch_width})")
    if r_max is not None and not (math.isfinite(r_max) and r_max > switch_width + R_VALID_MIN_BOHR):
        raise InputError(f"--cutoff (the largest state-pair range, bohr) must exceed the switch width + "
                         f"{R_VALID_MIN_BOHR} bohr (got {r_max})")
    pot = _potential(bundle, variant, background, proton)
    sel = select_types(pot, bundle, types, elements)
    fm = FastModel(pot, cutoff_tol=float(cutoff_tol), switch_width=float(switch_width),
                   r_max=None if r_max is None else float(r_max))
    fun = FixedStateFunctions(pot, fm, sel)
    n = len(sel)
    cut_b = max(fun.r_off(a, b) for a in range(n) for b in range(n))
    cut = cut_b * BOHR_ANGSTROM
    dr = cut / (nr - 1)
    r_b = np.arange(nr) * dr / BOHR_ANGSTROM
    rho = np.empty((n, n, nr))
    for b in range(n):            # from
        for a in range(n):        # at
            rho[b, a] = fun.density(a, b, r_b)[0]
    z2r = {}
    for i in range(n):
        for j in range(i + 1):
            z2r[i, j] = fun.pair(i, j, r_b)[0] * EV_ANGSTROM
    rho_max_default = rho_max is None
    if rho_max is None:
        k1 = max(float(fun.density(a, b, np.array([RHO_MAX_DISTANCE]))[0][0]) for a in range(n) for b in range(n))
        rho_max = N_NEIGHBOURS_RHO_MAX * k1
    if not (math.isfinite(rho_max) and rho_max > 0):
        raise InputError(f"--rho-max must be > 0 (got {rho_max})")
    drho = rho_max / (nrho - 1)
    rho_grid = np.arange(nrho) * drho
    F = np.array([fun.embedding[a](rho_grid)[0] * HARTREE_EV for a in range(n)])
    t = Setfl("fs", background, fun.symbols, fun.Z, element_masses(fun.Z), nr, dr, cut, nrho, drho, F, rho, z2r)
    t.info = {"cutoff_bohr": cut_b, "cutoff_tol": float(cutoff_tol), "r_max_bohr": r_max,
              "switch_width_bohr": float(switch_width), "variant": variant, "proton": bool(proton),
              "r_on_bohr": {f"{fun.symbols[a]}-{fun.symbols[b]}": fun.r_on(a, b) for a in range(n) for b in range(a + 1)},
              "rho_max": float(rho_max), "rho_max_default": rho_max_default}
    t.info["errors"] = measure_errors(fun, t, r_hi=cut_b)
    return t, fun


# ------------------------------------------------------------------------------ files

def _q(q: int) -> str:
    return f"{q:+d}" if q else "0"


def render_lammps_input(t: Setfl, fun: FixedStateFunctions, setfl_name: str, bundle: dict,
                        coul_cutoff: float = DEFAULT_COUL_CUTOFF, kspace_accuracy: float = DEFAULT_KSPACE_ACCURACY) -> str:
    """The LAMMPS input that goes with the setfl: units, atom style, boundary, read_data ${data},
    masses, per-type charges, the hybrid/overlay pair style and kspace (periodic) or a direct
    Coulomb sum (cluster), selected by the variable ectem_mode."""
    names = " ".join(t.symbols)
    typ = [f"#   type {k + 1} = {ty.name:<8s} ({ty.symbol}, q = {_q(ty.charge)}, N = {ty.n_electrons} electrons, "
           f"dE = {ty.delta_e * HARTREE_EV:+.6f} eV{', ' + ty.label if ty.label else ''})"
           for k, ty in enumerate(fun.types)]
    lines = [
        f"# ectem fixed-state ECT-EAM: {setfl_name} (eam/fs) + point-charge Coulomb; what it is and when it",
        f"# holds: {setfl_name}.md. Bundle {bundle.get('name')} {bundle.get('version', '')}, parameters_sha256 "
        f"{bundle.get('parameters_sha256')}",
        f"# background {t.background}; units metal (eV, Angstrom). Atom types (pair_coeff order):",
        *typ,
        "# E = sum_i [dE_s + F_s(rho_i)] + 1/2 sum_(i!=j) phi_st(r_ij) + 1/2 sum_(i!=j) q_s q_t / r_ij",
        "#",
        "# Use: a data file for atom_style charge with the types above (its charges are replaced by the",
        "# per-type charges below), then",
        "#   variable data string LiF.data",
        f"#   include {setfl_name}.in",
        "#   ... your commands (velocity, fix nve, run) ...",
        "# or on the command line: mpirun -np 2 lmp -var data LiF.data -in main.in (main.in includes this file).",
        "# Options (-var NAME VALUE, or `variable NAME string VALUE` before the include):",
        "#   ectem_mode       periodic (default): boundary p p p, coul/long ${ectem_rc_long} A + kspace_style",
        "#                    ${ectem_kspace_style} ${ectem_kspace_accuracy}",
        "#                    cluster: boundary f f f, coul/cut ${ectem_rc_cluster} A, a direct sum (exact when the",
        "#                    cut-off exceeds the cluster's diameter); no kspace",
        f"#   ectem_potential  path of the setfl file (default {setfl_name}: the working directory, then",
        "#                    $LAMMPS_POTENTIALS)",
        "#   ectem_rc_cluster Coulomb cut-off of the cluster mode, A (default 1000)",
        f"#   ectem_rc_long    real-space cut-off of coul/long, A (default {coul_cutoff:g}). LAMMPS' coul/long uses an",
        "#                    approximate erfc (|error| <= 1.5e-7): the Coulomb energy is ~1e-6 relative off at",
        "#                    4-10 A; 3 A brings it to ~3e-8 (g*r large, nearly all of it in k-space) at ~20x the",
        "#                    kspace cost (see the .md)",
        f"#   ectem_kspace_style, ectem_kspace_accuracy  kspace_style and its accuracy (default ewald {kspace_accuracy:g};",
        "#                    pppm 1e-6 for large cells)",
        "# With your own box commands: copy the lines from 'interaction' on to after the box exists.",
        "# Atoms created later (create_atoms, fix deposit) get charge 0: repeat the `set type` lines.",
        "",
        "variable ectem_mode index periodic",
        f"variable ectem_potential index {setfl_name}",
        "variable ectem_rc_cluster index 1000.0",
        f"variable ectem_rc_long index {coul_cutoff!r}",
        "variable ectem_kspace_style index ewald",
        f"variable ectem_kspace_accuracy index {kspace_accuracy!r}",
        "",
        "units metal",
        "atom_style charge",
        'if "${ectem_mode} == periodic" then "boundary p p p" elif "${ectem_mode} == cluster" "boundary f f f" '
        "else \"print 'ectem: ectem_mode must be periodic or cluster'\" \"quit 1\"",
        "read_data ${data}",
        "",
        "# ---- interaction (after the box exists) ----",
    ]
    for k, m in enumerate(t.masses):
        lines.append(f"mass {k + 1} {m!r}")
    for k, ty in enumerate(fun.types):
        lines.append(f"set type {k + 1} charge {float(ty.charge)!r}")
    lines += [
        "# LAMMPS' e^2/(4 pi eps0) in units metal is 14.399645 eV*A; ectem and the tables use CODATA 2018",
        f"# ({EV_ANGSTROM!r} eV*A): this factor makes LAMMPS' Coulomb energy ectem's (3.3e-8 relative otherwise)",
        f"dielectric {DIELECTRIC!r}",
        'if "${ectem_mode} == periodic" then &',
        '  "pair_style hybrid/overlay eam/fs coul/long ${ectem_rc_long}" &',
        f'  "pair_coeff * * eam/fs ${{ectem_potential}} {names}" &',
        '  "pair_coeff * * coul/long" &',
        '  "pair_modify pair coul/long table 0" &',
        '  "kspace_style ${ectem_kspace_style} ${ectem_kspace_accuracy}" &',
        "else &",
        '  "pair_style hybrid/overlay eam/fs coul/cut ${ectem_rc_cluster}" &',
        f'  "pair_coeff * * eam/fs ${{ectem_potential}} {names}" &',
        '  "pair_coeff * * coul/cut"',
        "",
    ]
    return "\n".join(lines)


def render_fixed_notes(t: Setfl, fun: FixedStateFunctions, setfl_name: str, setfl_sha: str, bundle: dict,
                       bundle_path: str, coul_cutoff: float, kspace_accuracy: float) -> str:
    """The Markdown notes of a fixed-state export: what is fixed, when it is valid, how to check."""
    info = t.info
    err = info["errors"]
    bg = ("point: K_st(R) = sw_st(R) ρ_t(R), the neighbour state's density at the atom's nucleus"
          if t.background == "point" else
          "overlap (ectem default): K_st(R) = sw_st(R) S_st(R)/N_s, the overlap of the two states' densities "
          "over the receiving state's electron count (point sampling for a bare nucleus)")
    r_max = info["r_max_bohr"]
    lines = [
        f"# {setfl_name}: ECT-EAM of ectem bundle `{bundle.get('name')}` {bundle.get('version', '')} at fixed states",
        "",
        f"- LAMMPS: `units metal`, `atom_style charge`, `pair_style hybrid/overlay eam/fs coul/long {coul_cutoff:g}` + "
        f"`kspace_style ewald {kspace_accuracy:g}` (periodic) or `coul/cut` (clusters): all in `{setfl_name}.in`",
        f"- `pair_coeff * * eam/fs {setfl_name} {' '.join(t.symbols)}`",
        f"- bundle: `{bundle_path}`, parameters_sha256 `{bundle.get('parameters_sha256')}`",
        f"- setfl sha256: `{setfl_sha}`",
        "",
        "## What is fixed",
        "Every atom of a LAMMPS type is entirely in one state of the bundle (weight 1, all other weights 0) for "
        "the whole run; charges never change.",
        "",
        "| LAMMPS type | name in the file | element | state | charge q (e) | electrons | ΔE (eV) |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, ty in enumerate(fun.types):
        st = ty.name + (f" ({ty.label})" if ty.label else "")
        lines.append(f"| {k + 1} | `{ty.name}` | {ty.symbol} | {st} | {_q(ty.charge)} | {ty.n_electrons} | "
                     f"{ty.delta_e * HARTREE_EV:+.6f} |")
    lines += [
        "",
        "## Energy",
        "E = Σ_i [ΔE_{s_i} + F_{s_i}(ρ̄_i)] + ½ Σ_{i≠j} φ_{s_i s_j}(R_ij) + ½ Σ_{i≠j} q_{s_i} q_{s_j} e²/(4πε₀ R_ij), "
        "ρ̄_i = Σ_{j≠i} K_{s_i s_j}(R_ij), relative to separated neutral ground-state atoms (an isolated atom of a "
        "type has energy ΔE of its state). This is the ectem ECT-EAM energy (docs/model.md) at these integer "
        "weights, with the functions of its cutoff mode "
        f"`FastModel(model, cutoff_tol={info['cutoff_tol']:g}, switch_width={info['switch_width_bohr']:g}, "
        f"r_max={r_max})`:",
        f"- background: {bg};",
        "- φ_st = sw_st · (U_st − q_s q_t/R): the Coulomb energy of the two frozen states (nuclei + densities) "
        "minus its point-charge part, short-ranged; the point-charge part q_s q_t/R is LAMMPS' Coulomb "
        "(coul/long + Ewald sum for periodic cells, coul/cut direct sum for clusters), never cut off;",
        "- sw_st: C¹ switch 1 − 3x² + 2x³, x = (R − R_on)/w, from R_on,st (where every kernel and U − qq/R of the "
        f"state pair is below {info['cutoff_tol']:g} in atomic units"
        + (f", capped at {r_max:g} bohr − w" if r_max is not None else "") + f") to R_on + w, w = "
        f"{info['switch_width_bohr']:g} bohr;",
        "- F_s: the bundle's embedding function of the state, tabulated as F_s(ρ̄) + ΔE_s (eV);",
        "- the coupling terms of the resonance/thermal variants are zero at integer weights, so the file is the "
        f"same for every variant (this one was written for `{info['variant']}`).",
        "",
        "R_on per type pair (bohr):",
        "",
        "| pair | R_on | R_on + w |",
        "|---|---|---|",
    ]
    for k, v in info["r_on_bohr"].items():
        lines.append(f"| {k} | {v:.2f} | {v + info['switch_width_bohr']:.2f} |")
    lines += [
        "",
        "## When it is valid",
        "Only as long as the CPE solution of the structure stays at these integer states. The file cannot notice "
        "when it does not: LAMMPS keeps the charges whatever happens. It stops being the ECT-EAM energy when",
        "- bonds break or atoms separate (dissociation, evaporation, sputtering: beyond the diabatic crossing "
        "R_c ≈ 1/(IP − EA) a Li⁺F⁻ pair becomes two neutral atoms; for LiF that is ~12–20 bohr);",
        "- surfaces, defects, small clusters or other structures where the CPE weights become fractional or "
        "another state wins (charges ≠ ±1);",
        "- strong compression or heating that changes which states are occupied;",
        f"- atoms come closer than ~{R_VALID_MIN_BOHR} bohr ({R_VALID_MIN_BOHR * BOHR_ANGSTROM:.2f} Å) "
        "(errors are measured for r ≥ 1 bohr only);",
        "- ρ̄ exceeds ρ̄_max (LAMMPS continues F linearly).",
        "",
        "Check with ectem on representative snapshots (the periodic cell, or a cluster cut from the structure; "
        "atoms assigned to the types of the LAMMPS run):",
        "",
        "```python",
        "from ectem_core.potential.lammps.fixed_states import check_fixed_states",
        f"r = check_fixed_states(\"{bundle_path}\", symbols, positions_bohr, atom_types,   # 0-based type index per atom",
        f"                       types=[{', '.join(repr(n) for n in t.symbols)}], variant=\"{info['variant']}\", "
        f"background=\"{t.background}\", cell=cell_bohr)   # cell=None for a cluster",
        "print(r['valid'], r['max_weight_change'], r['energy_gap_hartree'])",
        "```",
        "",
        "It solves the CPE (`ectem_core.potential.cpe.solve`, the same cutoff-mode energy, total charge of the "
        "fixed states) and reports whether every atom stays in its assigned state. The same check by hand: "
        "`ECTEAM(bundle, cutoff_tol=…, r_max=…)` (ectem_core.ase) on the structure, then `calc.weights`.",
        "",
        "## Units and conventions",
        "- r in Å, energies in eV, the pair tables hold r·φ in eV·Å (setfl), ρ̄ in **bohr⁻³** (consistent in "
        "ρ and F, as LAMMPS requires); CODATA 2018 (HARTREE_EV, BOHR_ANGSTROM of ectem_core.elements);",
        "- eam/fs: the block of type β lists K at each type α (file order) from a β neighbour (LAMMPS uses "
        "type2rhor[j][i] for the density at i from j);",
        f"- Coulomb: LAMMPS' metal e²/4πε₀ is {LAMMPS_METAL_QQR2E} eV·Å, CODATA 2018 {EV_ANGSTROM:.10f}; the input "
        f"sets `dielectric {DIELECTRIC!r}` so that both agree (remove it and the Coulomb energy is 3.3e-8 relative "
        "smaller);",
        f"- Ewald: `kspace_style ewald {kspace_accuracy:g}` is LAMMPS' relative force accuracy (relative to the force "
        "of two unit charges 1 Å apart); `pair_modify table 0` evaluates coul/long's erfc directly instead of from "
        "a single-precision table, but LAMMPS' direct erfc is the Abramowitz–Stegun 7.1.26 approximation "
        "(|error| ≤ 1.5e-7), so the real-space Coulomb energy carries a ~1e-6 relative error at real-space "
        f"cut-offs of 4–10 Å (default {coul_cutoff:g} Å; `-var ectem_rc_long 3.0` lowers it to ~3e-8 at ~20× the "
        "k-space cost); `-var ectem_kspace_style pppm -var ectem_kspace_accuracy 1e-6` is faster for large cells.",
        "",
        "## Tabulation",
        f"- Nr = {t.nr}, dr = {t.dr:.6e} Å, cut-off {info['cutoff_bohr']:.4f} bohr = {t.cutoff:.4f} Å (the largest "
        "R_on + w); each table is exactly 0 beyond its own R_on + w;",
        f"- Nrho = {t.nrho}, drho = {t.drho:.6e} bohr⁻³, ρ̄_max = {info['rho_max']:.6g} bohr⁻³"
        + (f" (= {N_NEIGHBOURS_RHO_MAX} neighbours at {RHO_MAX_DISTANCE} bohr of the densest type pair; ρ̄ of the "
           "ions in rock-salt LiF is 0.003–0.006)"
           if info.get("rho_max_default") else " (set with --rho-max)") + ";",
        "- values below 0.2 bohr come from the pair tables' first piece, as in ectem; r·φ(0) is finite.",
        "",
        "## Measured interpolation error (as LAMMPS interpolates; between-knot points)",
        f"Pair tables on {R_VALID_MIN_BOHR} bohr ≤ r ≤ the cut-off (switch included), max |error| / max |function| "
        "(value; slope):",
        "",
    ]
    lines += error_table_lines(err, label="type")
    lines += ["", "Verified against real LAMMPS (tests/integration/test_lammps_fixed_states.py): energies and forces "
              "of Li⁺/F⁻ and mixed-type clusters (cluster mode) and energy, forces and stress of a rattled periodic "
              "LiF cell agree with `FastModel(...).evaluate` at the fixed weights; periodic LiF gives the same energy "
              "on 1 and 2 MPI ranks; see docs/lammps.md for the numbers.", ""]
    return "\n".join(lines)


def input_path(out: Path) -> Path:
    return Path(str(out) + ".in")


def export_fixed_states(bundle_path, out, types: list[str] | None = None, elements: list[str] | None = None,
                        variant: str = "pure", background: str = "overlap", proton: bool = False,
                        cutoff_tol: float = DEFAULT_CUTOFF_TOL, r_max: float | None = DEFAULT_R_MAX,
                        switch_width: float = DEFAULT_SWITCH_WIDTH, nr: int = DEFAULT_NR, nrho: int = DEFAULT_NRHO,
                        rho_max: float | None = None, coul_cutoff: float = DEFAULT_COUL_CUTOFF,
                        kspace_accuracy: float = DEFAULT_KSPACE_ACCURACY) -> dict:
    """Write OUT (eam/fs setfl), OUT.in (LAMMPS input) and OUT.md (notes); returns a summary.
    types: a `--fixed-states` string or its parsed items (None: the default set). Nothing is
    written on error."""
    from ..bundle import load_bundle

    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a directory: give a file name, e.g. {out}/LiF.eam.fs")
    if isinstance(types, str):
        types = parse_fixed_states(types)
    if not (math.isfinite(coul_cutoff) and coul_cutoff > 0):
        raise InputError(f"--coul-cutoff must be > 0 Angstrom (got {coul_cutoff})")
    if not (math.isfinite(kspace_accuracy) and 0 < kspace_accuracy < 1):
        raise InputError(f"--kspace-accuracy must be in (0, 1) (got {kspace_accuracy})")
    if not Path(str(bundle_path)).exists():
        raise InputError(f"bundle {bundle_path} does not exist (build it with snakemake, "
                         "results/bundle/{set}.json)")
    bundle = load_bundle(bundle_path)
    t, fun = build_fixed_setfl(bundle, types, elements, variant, background, proton, cutoff_tol, r_max, switch_width,
                               nr, nrho, rho_max)
    comments = (f"ectem fixed-state ECT-EAM (types = bundle states) of bundle {bundle.get('name')} "
                f"{bundle.get('version', '')} parameters_sha256 {bundle.get('parameters_sha256')}",
                f"pair_style eam/fs part, background {t.background}; units metal (eV, Angstrom); rho in bohr^-3; "
                "r*phi in eV*Angstrom; F includes the state energy dE",
                f"Coulomb q_i q_j / r of the fixed charges NOT included: use {out.name}.in; see {out.name}.md")
    text = render_setfl(t, comments)
    sha = hashlib.sha256(text.encode()).hexdigest()
    lmp_in = render_lammps_input(t, fun, out.name, bundle, coul_cutoff, kspace_accuracy)
    notes = render_fixed_notes(t, fun, out.name, sha, bundle, str(bundle_path), coul_cutoff, kspace_accuracy)
    write_files([(out, text), (input_path(out), lmp_in), (notes_path(out), notes)])
    return {"setfl": str(out), "input": str(input_path(out)), "notes": str(notes_path(out)),
            "pair_style": f"hybrid/overlay eam/fs coul/long {coul_cutoff:g}", "background": t.background,
            "variant": variant, "types": [{"name": ty.name, "element": ty.symbol, "charge": ty.charge,
                                           "delta_e_eV": ty.delta_e * HARTREE_EV} for ty in fun.types],
            "cutoff_bohr": t.info["cutoff_bohr"], "cutoff_angstrom": t.cutoff, "cutoff_tol": t.info["cutoff_tol"],
            "r_max_bohr": r_max, "switch_width_bohr": t.info["switch_width_bohr"], "r_on_bohr": t.info["r_on_bohr"],
            "nr": t.nr, "nrho": t.nrho, "rho_max": t.info["rho_max"], "bytes": len(text.encode()), "sha256": sha,
            "worst_pair_relative": t.info["errors"]["worst_pair_relative"],
            "worst_density_relative": t.info["errors"]["worst_density_relative"]}


# ------------------------------------------------------------------------------ validity check

def check_fixed_states(bundle, symbols, positions_bohr, atom_types, types, variant: str = "pure",
                       background: str = "overlap", proton: bool = False, cutoff_tol: float = DEFAULT_CUTOFF_TOL,
                       r_max: float | None = DEFAULT_R_MAX, switch_width: float = DEFAULT_SWITCH_WIDTH,
                       tol: float = 1e-6, cell=None) -> dict:
    """Does the CPE solution of a structure keep every atom in its assigned state? Solves the CPE
    (cpe.solve with the cutoff-mode fast model, total charge of the fixed states, warm-started
    at them) for a cluster, or for a periodic cell (`cell`: 3×3 bohr, rows = lattice vectors;
    neutral), and compares. valid: every weight within `tol` of the fixed ones."""
    from ..bundle import load_bundle
    from ..cpe import solve
    from ..fastmodel import fast_model

    b = bundle if isinstance(bundle, dict) else load_bundle(bundle)
    pot = _potential(b, variant, background, proton)
    sel = select_types(pot, b, parse_fixed_states(types) if isinstance(types, str) else list(types))
    system = pot.system(list(symbols))
    pos = np.asarray(positions_bohr, dtype=float).reshape(-1, 3)
    c_fix = fixed_weights(pot, system, sel, atom_types)
    fm = fast_model(pot, cutoff_tol=float(cutoff_tol), switch_width=float(switch_width),
                    r_max=None if r_max is None else float(r_max))
    Q = float(sum(sel[int(k)].charge for k in atom_types))
    cell = None if cell is None else np.asarray(cell, dtype=float)
    res = solve(pot, system, pos, Q=Q, warm_start=c_fix, fast=fm, cell=cell)
    e_fix = fm.evaluate(system, pos, c_fix, want_forces=False, cell=cell).energy
    dev = np.abs(res.weights - c_fix)
    per_atom = [float(dev[system.slice(i)].max()) for i in range(system.n_atoms)]
    return {"valid": bool(max(per_atom) <= tol), "max_weight_change": float(max(per_atom)),
            "atoms_changed": [i for i, d in enumerate(per_atom) if d > tol],
            "charges_cpe": [float(q) for q in res.evaluation.charges],
            "energy_cpe_hartree": float(res.evaluation.energy), "energy_fixed_hartree": float(e_fix),
            "energy_gap_hartree": float(e_fix - res.evaluation.energy), "converged": bool(res.converged)}
