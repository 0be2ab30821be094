"""The crystal benchmark of an element set: for each compound and element the structures a user
checks (structures.BINARY for AB, structures.ELEMENTAL for an element), under each model
(energy.MODELS), relaxed and with a Birch–Murnaghan equation of state over ±8 % in volume.

Per (formula, structure, model): lattice constant a0 (Å), volume per formula unit (Å³), energy
E0 (eV per formula unit, against the separated neutral ground-state atoms), cohesive energy
−E0, lattice energy against the free ions −E0 + IP(A) − EA(B) (the bundle's own ion energies,
so that model and experiment are compared on the same footing), bulk modulus B0 (GPa) and B0',
the charges and ensemble weights at a0, and the (V, E) points of the fit. Cubic structures have
one lattice parameter and symmetry-fixed positions, so relaxing them is minimizing E(a); hcp is
kept at the ideal c/a (stated in every row)."""
from __future__ import annotations

import time

import numpy as np
from scipy import optimize

from ..elements import COVALENT_RADIUS_ANGSTROM, HARTREE_EV
from ..errors import EctemError, InputError
from .energy import MODELS, CrystalEnergy
from .eos import fit_birch_murnaghan
from .experiment import experimental_crystals
from .structures import BINARY, ELEMENTAL, IDEAL_C_OVER_A, build, formula_units, lattice_constant, nearest_neighbour

EV_PER_A3_IN_GPA = 160.21766208      # 1 eV/Å³ in GPa (CODATA 2014 e)
EOS_SPAN = 0.08
EOS_POINTS = 9
_CATION_GROUPS = {"Li", "Na", "K", "Be", "Mg", "Ca"}
_ANIONS = {"H", "F", "Cl", "Br", "O", "S"}
_METALS = {"Li", "Na", "K", "Be", "Mg", "Ca", "Al", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga"}


def default_crystals(elements) -> dict:
    """{'compounds': AB formulas (cation element first: alkali / alkaline-earth with H, halogen or
    chalcogen of the set), 'elements': the metals of the set}."""
    els = list(elements)
    compounds = [a + b for a in els for b in els if a in _CATION_GROUPS and b in _ANIONS and a != b]
    return {"compounds": compounds, "elements": [e for e in els if e in _METALS]}


def split_formula(formula: str, elements) -> list:
    """'LiF' → ['Li', 'F'] using the set's element symbols (1:1 compounds and single elements only)."""
    els = sorted(elements, key=len, reverse=True)
    out, rest = [], formula
    while rest:
        hit = next((e for e in els if rest.startswith(e)), None)
        if hit is None:
            raise InputError(f"crystal formula {formula!r}: {rest!r} is not an element of this set "
                             f"({', '.join(elements)}); formulas are 1:1 compounds such as LiF or elements such as Li")
        out.append(hit)
        rest = rest[len(hit):]
    if len(out) not in (1, 2) or (len(out) == 2 and out[0] == out[1]):
        raise InputError(f"crystal formula {formula!r}: give a 1:1 compound of two elements (LiF) or one element (Li)")
    return out


def guess_lattice(symbols, structure: str) -> float:
    """Starting lattice constant (Å): the experimental one where tabulated for this structure, else
    nearest neighbours at the sum of Cordero covalent radii."""
    exp = experimental_crystals().get("".join(symbols))
    if exp and exp["structure"] == structure and exp["a0_angstrom"]:
        return exp["a0_angstrom"]
    nn = sum(COVALENT_RADIUS_ANGSTROM[s] for s in (symbols if len(symbols) == 2 else symbols * 2))
    return nn / nearest_neighbour(structure, 1.0)


class _Curve:
    """E per formula unit (eV) of one (formula, structure, model) as a function of a (Å), warm-started."""

    def __init__(self, ce: CrystalEnergy, symbols, structure):
        self.ce, self.symbols, self.structure = ce, list(symbols), structure
        self.warm = None
        self.calls = 0
        self.unstable_reason = None   # QEq: why some lattice constants have no energy
        self.unstable_max = 0.0       # QEq: the largest such lattice constant (Å)

    def atoms(self, a):
        return build(self.symbols, self.structure, a)

    def point(self, a):
        at = self.atoms(a)
        p = self.ce.point(at, warm_start=self.warm)
        if self.ce.model == "ectem":
            self.warm = p.weights
        self.calls += 1
        return p, formula_units(at, self.structure)

    def __call__(self, a):
        try:
            p, nfu = self.point(a)
        except EctemError as exc:   # QEq without a minimum at this a: no energy (the scan avoids it)
            if self.ce.model != "qeq":
                raise
            self.unstable_reason = str(exc)
            self.unstable_max = max(self.unstable_max, a)
            return np.inf
        return p.energy_ev / nfu


def relax(curve: _Curve, a_guess: float) -> float:
    """a (Å) minimizing E(a): a coarse scan over 0.7–1.5 a_guess, widened (to 0.5 and 2.5 a_guess) while
    the lowest point sits on an edge, then Brent inside the bracket."""
    grid = list(a_guess * np.linspace(0.7, 1.5, 17))
    e = [curve(a) for a in grid]
    step = grid[1] - grid[0]
    while True:
        k = int(np.argmin(e))
        if 0 < k < len(grid) - 1:
            break
        if k == len(grid) - 1 and grid[-1] + step <= 2.5 * a_guess:
            grid.append(grid[-1] + step)
            e.append(curve(grid[-1]))
        elif k == 0 and grid[0] - step >= 0.5 * a_guess:
            grid.insert(0, grid[0] - step)
            e.insert(0, curve(grid[0]))
        else:
            where = "expands without limit (unbound)" if k else "collapses"
            raise EctemError(f"{''.join(curve.symbols)} {curve.structure} ({curve.ce.model}): E(a) has no minimum "
                             f"between {grid[0]:.3f} and {grid[-1]:.3f} Å: the structure {where} under this model")
    res = optimize.minimize_scalar(curve, bracket=(grid[k - 1], grid[k], grid[k + 1]), method="brent",
                                   options={"xtol": 1e-6})
    return float(res.x)


def crystal_row(ce: CrystalEnergy, symbols, structure: str, ion_energy_ev: float | None) -> dict:
    """Relaxation, equation of state and properties of one structure under one model (see module doc)."""
    t0 = time.perf_counter()
    curve = _Curve(ce, symbols, structure)
    row = {"formula": "".join(symbols), "symbols": list(symbols), "structure": structure, "model": ce.model,
           "c_over_a": IDEAL_C_OVER_A if structure == "hcp" else None}
    try:
        a_min = relax(curve, guess_lattice(symbols, structure))
        at = curve.atoms(a_min)
        nfu = formula_units(at, structure)
        v_min = at.get_volume() / nfu
        vols = v_min * (1.0 + np.linspace(-EOS_SPAN, EOS_SPAN, EOS_POINTS))
        energies = [curve(lattice_constant(structure, v, row["c_over_a"])) for v in vols]
        if not np.all(np.isfinite(energies)):
            raise EctemError(f"no finite energy over ±{EOS_SPAN:.0%} in volume around a = {a_min:.3f} Å: "
                             + (curve.unstable_reason or ""))
        bm = fit_birch_murnaghan(vols, energies)
    except EctemError as exc:
        status = "unstable" if curve.unstable_reason else "unbound"
        row.update({"status": status, "reason": str(exc), "seconds": time.perf_counter() - t0})
        return row
    if curve.unstable_reason:
        row["note"] = (f"QEq has no minimum in q for a <= {curve.unstable_max:.3f} Å (polarization catastrophe); "
                       "the relaxed structure lies outside that range")
    a0 = lattice_constant(structure, bm.v0, row["c_over_a"])
    p, _ = curve.point(a0)
    weights = []
    for i in range(len(p.charges)):   # per atom: the states with weight > 1e-6
        sl = slice(*ce.pot.system(curve.atoms(a0).get_chemical_symbols()).offsets[i:i + 2])
        weights.append({sid: round(float(w), 8) for sid, w in zip(p.state_ids[sl], p.weights[sl]) if w > 1e-6})
    row.update({
        "status": "ok", "a0_angstrom": a0, "nearest_neighbour_angstrom": nearest_neighbour(structure, a0, row["c_over_a"]),
        "volume_per_unit_A3": bm.v0, "energy_eV": bm.e0, "cohesive_energy_eV": -bm.e0,
        "lattice_energy_eV": None if ion_energy_ev is None else -bm.e0 + ion_energy_ev,
        "B_GPa": bm.b0 * EV_PER_A3_IN_GPA, "B_prime": bm.b0_prime, "eos_rms_eV": bm.rms,
        "charges": [float(q) for q in p.charges], "weights": weights,
        "eos": {"volume_A3": [float(v) for v in vols], "energy_eV": [float(e) for e in energies]},
        "energy_evaluations": curve.calls, "seconds": time.perf_counter() - t0})
    return row


def ion_pair_energy(pot, symbols) -> float | None:
    """IP(A) − EA(B) in eV from the bundle's +1 and −1 ground states (None if either is absent)."""
    if len(symbols) != 2:
        return None
    a, b = (pot.elements[pot.index[s]] for s in symbols)
    if a.cation is None or b.anion is None:
        return None
    return float(a.delta_e[a.cation] + b.delta_e[b.anion]) * HARTREE_EV


def run_crystals(bundle, compounds, elements, models=MODELS, variant: str = "pure",
                 binary_structures=BINARY, elemental_structures=ELEMENTAL, progress=print) -> dict:
    """Every (formula, structure, model) row, the structure ordering per formula and model, and the
    experimental rows of the tabulated formulas."""
    from ..potential import load_potential

    pot = load_potential(bundle, variant=variant)
    set_elements = list(pot.index)
    for m in models:
        if m not in MODELS:
            raise InputError(f"unknown crystal model {m!r}: use one of {', '.join(MODELS)}")
    jobs = []
    for f in compounds:
        sy = split_formula(f, set_elements)
        if len(sy) != 2:
            raise InputError(f"crystals.compounds: {f!r} is an element; list it under crystals.elements")
        jobs += [(sy, s) for s in binary_structures]
    for f in elements:
        sy = split_formula(f, set_elements)
        if len(sy) != 1:
            raise InputError(f"crystals.elements: {f!r} is a compound; list it under crystals.compounds")
        jobs += [(sy, s) for s in elemental_structures]
    energies = {m: CrystalEnergy(bundle, m, variant) for m in models}
    rows = []
    total = len(jobs) * len(models)
    t0 = time.perf_counter()
    for k, ((sy, structure), m) in enumerate(((j, m) for j in jobs for m in models), start=1):
        row = crystal_row(energies[m], sy, structure, ion_pair_energy(pot, sy))
        rows.append(row)
        el = time.perf_counter() - t0
        eta = el / k * (total - k)
        msg = (f"a0 {row['a0_angstrom']:.4f} A, E_coh {row['cohesive_energy_eV']:.3f} eV, B {row['B_GPa']:.1f} GPa"
               if row["status"] == "ok" else row["status"])
        progress(f"crystal {k}/{total} {''.join(sy)} {structure} {m}: {msg} ({el:.0f} s, about {eta:.0f} s left)")
    return {"variant": variant, "models": list(models), "rows": rows, "ordering": ordering(rows),
            "experiment": {f: experimental_crystals()[f] for f in {r["formula"] for r in rows}
                           if f in experimental_crystals()}}


def ordering(rows) -> dict:
    """{formula: {model: [[structure, E − E_lowest (eV per formula unit)], …] lowest first}}."""
    out: dict = {}
    for r in rows:
        if r["status"] == "ok":
            out.setdefault(r["formula"], {}).setdefault(r["model"], []).append([r["structure"], r["energy_eV"]])
    for per in out.values():
        for m, lst in per.items():
            lst.sort(key=lambda t: t[1])
            e_min = lst[0][1]
            per[m] = [[s, e - e_min] for s, e in lst]
    return out
