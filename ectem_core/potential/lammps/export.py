"""LAMMPS export of the plain-EAM limit of an ECT-EAM bundle (setfl for eam/alloy or eam/fs).

Plain EAM = the ECT-EAM energy with every atom fixed in its neutral ground state:
    E = Σ_i F_i(ρ̄_i) + ½ Σ_{i≠j} U_ij(R_ij)
with U the Coulomb energy of the two neutral atoms (nuclei + densities) and ρ̄_i either
  'point'   ρ̄_i = Σ_j ρ_j(R_ij)          → eam/alloy (exact)
  'overlap' ρ̄_i = Σ_j S_ij(R_ij) / N_i   → eam/fs (exact; eam/alloy only for one element).
Internally atomic units; the file is LAMMPS `units metal`: r in Å, F and r·φ in eV and eV·Å,
ρ̄ in bohr⁻³ (any density unit is allowed by LAMMPS if used consistently). The functions
tabulated are the same pair tables and embedding functions `ectem_core.potential` evaluates.

Public API: `plain_eam_functions`, `build_setfl`, `render_notes`, `export_lammps`; the setfl
container, writer and LAMMPS spline live in `setfl.py` and are re-exported here (`Setfl`,
`render_setfl`, `measure_errors`, `lammps_spline`, `lammps_eval`: a numpy copy of LAMMPS'
PairEAM::interpolate used to measure the interpolation error the file will have inside LAMMPS).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...elements import BOHR_ANGSTROM, HARTREE_EV
from ...errors import InputError
from .setfl import (  # noqa: F401  (re-exported: the public API of this module before setfl.py existed)
    EV_ANGSTROM,
    R_VALID_MIN_BOHR,
    TAPER_WIDTH_BOHR,
    Setfl,
    element_masses,
    error_table_lines,
    lammps_eval,
    lammps_spline,
    measure_errors,
    notes_path,
    render_setfl,
    write_files,
)

STYLES = ("alloy", "fs")
BACKGROUNDS = ("overlap", "point")
DEFAULT_NR = 20000
DEFAULT_NRHO = 500000
CUTOFF_TOL = 1e-12          # |f(r)| below this × max|f| on r >= R_VALID_MIN beyond the cut-off
N_NEIGHBOURS_RHO_MAX = 12   # default ρ̄_max = 12 neighbours at R_VALID_MIN of the densest pair
_R_TABLE_MIN = 0.2          # below this (bohr) values come from the direct formulas (pair tables start here)


# ------------------------------------------------------------------------------ physics

@dataclass
class PlainEAM:
    """The plain-EAM functions of a set of elements in atomic units.

    density(a, b, r) → (K, dK/dr): background at an a-atom from a b-atom at distance r (bohr);
    pair(a, b, r) → (r·U, d(r·U)/dr) in hartree·bohr; embedding[a](ρ̄) → (F, F', F'')."""

    symbols: list
    Z: list
    n_electrons: list
    background: str
    embedding: list
    _tables: dict
    _states: list

    def density(self, a: int, b: int, r):
        r = np.asarray(r, dtype=float)
        out_v, out_d = np.empty_like(r), np.empty_like(r)
        lo = r < _R_TABLE_MIN
        tab = self._pair(a, b)
        if self.background == "point":
            t = tab["rho_b_at_R"]
            v, d = t(r[~lo])
            out_v[~lo], out_d[~lo] = v, d
            if lo.any():
                from ...density import slater
                rd = _rd(self._states[b])
                out_v[lo] = slater.density(rd, r[lo])
                out_d[lo] = slater.density_derivative(rd, r[lo])
            return out_v, out_d
        N = float(self.n_electrons[a])
        v, d = tab["S"](r[~lo])
        out_v[~lo], out_d[~lo] = v / N, d / N
        if lo.any():
            from ...density.pair_integrals import overlap_derivatives
            S, dS, _ = overlap_derivatives(self._states[a], self._states[b], r[lo])
            out_v[lo], out_d[lo] = S / N, dS / N
        return out_v, out_d

    def pair(self, a: int, b: int, r):
        """r·U(r) and its derivative (hartree·bohr, hartree); r·U(0) = Z_a Z_b exactly."""
        r = np.asarray(r, dtype=float)
        out_v, out_d = np.empty_like(r), np.empty_like(r)
        lo = r < _R_TABLE_MIN
        U, dU = self._pair(a, b)["U"](r[~lo])
        out_v[~lo], out_d[~lo] = r[~lo] * U, U + r[~lo] * dU
        if lo.any():
            from ...density.pair_integrals import short_range_coulomb
            rl = r[lo]
            pos = rl > 0
            v = np.full(rl.shape, float(self.Z[a] * self.Z[b]))
            d = np.zeros(rl.shape)
            if pos.any():
                W, dW, _ = short_range_coulomb(self.Z[a], self._states[a], self.Z[b], self._states[b], rl[pos])
                v[pos], d[pos] = W, dW   # neutral atoms: q_a q_b = 0, so r·U = W
            if (~pos).any():   # slope at 0 from the first positive point (only the r = 0 knot)
                W, dW, _ = short_range_coulomb(self.Z[a], self._states[a], self.Z[b], self._states[b],
                                               np.array([1e-6]))
                d[~pos] = dW[0]
            out_v[lo], out_d[lo] = v, d
        return out_v, out_d

    def _pair(self, a: int, b: int) -> dict:
        return self._tables[a, b]


def _rd(state: dict):
    from ...density.pair_integrals import as_density
    return as_density(state)


def _select_elements(bundle: dict, elements: list[str] | None) -> list[str]:
    available = list(bundle["elements"])
    symbols = list(elements) if elements else available
    missing = [s for s in symbols if s not in available]
    if missing:
        raise InputError(f"element(s) {', '.join(missing)} not in bundle {bundle.get('name')} "
                         f"(it has {', '.join(available)})")
    if len(set(symbols)) != len(symbols):
        raise InputError(f"--elements lists an element twice: {','.join(symbols)}")
    return symbols


def plain_eam_functions(bundle: dict, background: str = "overlap", elements: list[str] | None = None) -> PlainEAM:
    """The neutral-ground-state functions of `elements` (default: all, in bundle order)."""
    from ...embedding.function import embedding_function
    from ..pair_tables import build_pair_table_set

    if background not in BACKGROUNDS:
        raise InputError(f"unknown background {background!r}: use one of {', '.join(BACKGROUNDS)}")
    symbols = _select_elements(bundle, elements)
    by_id = {s["state_id"]: s for s in bundle["states"]}
    states, Z, N, emb = [], [], [], []
    for sym in symbols:
        gid = bundle["elements"][sym].get("ground_state")
        st = by_id.get(gid)
        if st is None:
            raise InputError(f"bundle {bundle.get('name')}: ground state {gid!r} of {sym} is missing")
        if st["n_electrons"] != st["Z"]:
            raise InputError(f"bundle {bundle.get('name')}: ground state {gid} of {sym} is not neutral")
        states.append({"Z": st["Z"], "n_electrons": st["n_electrons"], **st["density"]})
        Z.append(int(st["Z"]))
        N.append(float(st["n_electrons"]))
        emb.append(embedding_function(st["embedding"]))
    tables = {}
    for a in range(len(symbols)):
        for b in range(len(symbols)):
            tables[a, b] = build_pair_table_set(states[a], states[b])
    return PlainEAM(symbols, Z, N, background, emb, tables, states)


# ------------------------------------------------------------------------------ tables

def _taper(r, r_on, r_off):
    x = np.clip((r - r_on) / (r_off - r_on), 0.0, 1.0)
    return 1.0 - x ** 3 * (10.0 - 15.0 * x + 6.0 * x * x)


def _natural_cutoff(fun: PlainEAM, tol: float) -> tuple[float, dict]:
    """Largest r (bohr) at which any density or r·U function is still above tol × its max on
    r >= R_VALID_MIN_BOHR, scanning to 1.5 × the longest pair table."""
    n = len(fun.symbols)
    r_end = 1.5 * max(max(t["S"].R_max, t["U"].R_max, t["rho_b_at_R"].R_max) for t in fun._tables.values())
    r = np.linspace(R_VALID_MIN_BOHR, r_end, 40001)
    where = {}
    for a in range(n):
        for b in range(n):
            for kind, vals in (("density", fun.density(a, b, r)[0]), ("r*U", fun.pair(a, b, r)[0])):
                scale = np.max(np.abs(vals))
                above = np.nonzero(np.abs(vals) > tol * scale)[0]
                where[f"{kind} {fun.symbols[a]}<-{fun.symbols[b]}"] = float(r[above[-1] + 1]) if above.size else float(r[0])
    return max(where.values()), where


def build_setfl(bundle: dict, style: str | None = None, background: str = "overlap", nr: int = DEFAULT_NR,
                nrho: int = DEFAULT_NRHO, cutoff_bohr: float | None = None, rho_max: float | None = None,
                elements: list[str] | None = None) -> Setfl:
    """Tabulate the plain-EAM limit of `bundle` for LAMMPS. style None: 'alloy' for the point
    background, 'fs' for the overlap background. InputError for a combination LAMMPS cannot
    represent exactly (eam/alloy with the overlap background and several elements)."""
    if background not in BACKGROUNDS:
        raise InputError(f"unknown background {background!r}: use one of {', '.join(BACKGROUNDS)}")
    style = style or ("alloy" if background == "point" else "fs")
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    symbols = _select_elements(bundle, elements)
    if style == "alloy" and background == "overlap" and len(symbols) > 1:
        raise InputError("eam/alloy cannot represent the overlap background for several elements (an atom's "
                         "contribution S_ij/N_i depends on both elements): use --style fs, or --background point, "
                         "or a single element with --elements")
    if not (isinstance(nr, int) and nr >= 100 and isinstance(nrho, int) and nrho >= 100):
        raise InputError(f"--nr and --nrho must be integers >= 100 (got {nr}, {nrho})")
    fun = plain_eam_functions(bundle, background, symbols)
    n = len(symbols)
    natural, where = _natural_cutoff(fun, CUTOFF_TOL)
    if cutoff_bohr is None:
        r_on = natural
        cut_b = natural + TAPER_WIDTH_BOHR
    else:
        if not (math.isfinite(cutoff_bohr) and cutoff_bohr > R_VALID_MIN_BOHR + TAPER_WIDTH_BOHR):
            raise InputError(f"--cutoff must be > {R_VALID_MIN_BOHR + TAPER_WIDTH_BOHR} bohr (got {cutoff_bohr})")
        cut_b = float(cutoff_bohr)
        r_on = cut_b - TAPER_WIDTH_BOHR
    cut = cut_b * BOHR_ANGSTROM
    dr = cut / (nr - 1)
    r_ang = np.arange(nr) * dr
    r_b = r_ang / BOHR_ANGSTROM
    s = _taper(r_b, r_on, cut_b)
    rho = np.empty((n, n, nr))
    for b in range(n):            # from
        for a in range(n):        # at
            rho[b, a] = fun.density(a, b, r_b)[0] * s
    z2r = {}
    for i in range(n):
        for j in range(i + 1):
            z2r[i, j] = fun.pair(i, j, r_b)[0] * s * EV_ANGSTROM
    rho_max_default = rho_max is None
    if rho_max is None:
        k_min = np.array([[fun.density(a, b, np.array([R_VALID_MIN_BOHR]))[0][0] for b in range(n)] for a in range(n)])
        rho_max = float(N_NEIGHBOURS_RHO_MAX * k_min.max())
    if not (math.isfinite(rho_max) and rho_max > 0):
        raise InputError(f"--rho-max must be > 0 (got {rho_max})")
    drho = rho_max / (nrho - 1)
    rho_grid = np.arange(nrho) * drho
    F = np.array([fun.embedding[a](rho_grid)[0] * HARTREE_EV for a in range(n)])
    masses = element_masses(fun.Z)
    out = Setfl(style, background, symbols, fun.Z, masses, nr, dr, cut, nrho, drho, F, rho, z2r)
    if style == "alloy":   # one density per neighbour element: check it does not depend on the receiver
        for b in range(n):
            if not np.array_equal(rho[b], np.broadcast_to(rho[b, 0], rho[b].shape)):
                raise InputError("internal: eam/alloy needs receiver-independent densities")  # pragma: no cover
    out.info = {"natural_cutoff_bohr": natural, "cutoff_bohr": cut_b, "taper_on_bohr": r_on,
                "cutoff_where": where, "rho_max": rho_max,
                "rho_max_default": rho_max_default}
    out.info["errors"] = measure_errors(fun, out)
    if cutoff_bohr is not None and cut_b < natural:
        out.info["truncation"] = _truncation(fun, r_on)
    return out


def _truncation(fun: PlainEAM, r_on: float) -> dict:
    """Largest |f(r)| / max|f| for r >= r_on (bohr): what a short user cut-off drops or tapers."""
    n = len(fun.symbols)
    r_all = np.linspace(R_VALID_MIN_BOHR, max(r_on, R_VALID_MIN_BOHR) + 40.0, 20001)
    worst = 0.0
    for a in range(n):
        for b in range(n):
            for vals in (fun.density(a, b, r_all)[0], fun.pair(a, b, r_all)[0]):
                scale = np.max(np.abs(vals))
                worst = max(worst, float(np.max(np.abs(vals[r_all >= r_on])) / scale))
    return {"max_relative_dropped": worst}


# ------------------------------------------------------------------------------ files

def render_notes(t: Setfl, setfl_name: str, setfl_sha: str, bundle: dict, bundle_path: str) -> str:
    """The Markdown document that travels with the setfl file: what is and is not represented."""
    pair_style = f"eam/{t.style}"
    info = t.info
    err = info["errors"]
    bg = ("point: ρ̄_i = Σ_j ρ_j(R_ij), the neighbour's ground-state density at i's nucleus"
          if t.background == "point" else
          "overlap (ectem default): ρ̄_i = Σ_j S_ij(R_ij)/N_i, the overlap integral of the two ground-state "
          "densities divided by i's electron count")
    lines = [
        f"# {setfl_name}: plain-EAM limit of ectem bundle `{bundle.get('name')}` {bundle.get('version', '')}",
        "",
        f"- LAMMPS: `units metal`, `pair_style {pair_style}`, `pair_coeff * * {setfl_name} {' '.join(t.symbols)}`",
        f"- bundle: `{bundle_path}`, parameters_sha256 `{bundle.get('parameters_sha256')}`",
        f"- setfl sha256: `{setfl_sha}`",
        "",
        "## What is represented",
        "E = Σ_i F_i(ρ̄_i) + ½ Σ_{i≠j} φ_ij(R_ij): the ECT-EAM energy with **every atom fixed in its neutral "
        "ground state** (" + ", ".join(f"{s}: {bundle['elements'][s]['ground_state']}" for s in t.symbols) + "), "
        "relative to the separated neutral atoms (0 eV for isolated atoms).",
        f"- background: {bg}.",
        "- φ_ij = the Coulomb energy of the two neutral atoms (nuclei + frozen ground-state densities); short-ranged, "
        "r·φ(0) = Z_i Z_j · 14.3996 eV·Å exactly (bare nuclear repulsion).",
        "- F_i: the bundle's embedding function of the neutral ground state (eV).",
        "",
        "## What is NOT represented",
        "- no charge transfer: no ionic or excited states, no ensemble weights, no chemical-potential equalization "
        "(ionic bonding such as LiF is only what the neutral atoms give: `ectem scan --model eam`);",
        "- no Coulomb interaction between ions (there are none) and no long-range electrostatics of any kind;",
        "- no periodic Ewald terms (none are needed for neutral atoms: everything is short-ranged).",
        "",
        "## Units and conventions",
        "- r in Å, F in eV, the pair table is r·φ in eV·Å (setfl convention);",
        "- ρ̄ in **bohr⁻³** (electrons/bohr³); F is tabulated against ρ̄ in bohr⁻³ — consistent, as LAMMPS requires;",
        "- " + ("eam/fs: the block of element β lists ρ_β→α for α in file order (the density a β atom "
                "contributes at an α atom), which is how LAMMPS reads it (type2rhor[j][i] for the density at i from j)."
                if t.style == "fs" else
                "eam/alloy: one density per element (what an atom of that element contributes at any neighbour)."),
        "",
        "## Tabulation",
        f"- Nr = {t.nr}, dr = {t.dr:.6e} Å; Nrho = {t.nrho}, drho = {t.drho:.6e} bohr⁻³, ρ̄_max = {info['rho_max']:.6g} bohr⁻³"
        + (f" (= {N_NEIGHBOURS_RHO_MAX} neighbours at {R_VALID_MIN_BOHR} bohr of the densest pair)"
           if info.get("rho_max_default") else " (set with --rho-max)"),
        f"- cut-off {info['cutoff_bohr']:.4f} bohr = {t.cutoff:.4f} Å. Natural cut-off (every density and r·U below "
        f"{CUTOFF_TOL:g} × its maximum on r ≥ {R_VALID_MIN_BOHR} bohr beyond it): {info['natural_cutoff_bohr']:.4f} bohr; "
        f"every pair table is multiplied by a C² quintic taper from {info['taper_on_bohr']:.4f} bohr to the cut-off, "
        "so values and first two derivatives go to 0 there.",
    ]
    if "truncation" in info:
        lines.append(f"- **the cut-off is shorter than the natural one**: the largest dropped/tapered value is "
                     f"{info['truncation']['max_relative_dropped']:.2e} of the function's maximum.")
    lines += [
        f"- r < {_R_TABLE_MIN} bohr: direct evaluation of the formulas (finite at r = 0). Do not let atoms come "
        f"closer than ~{R_VALID_MIN_BOHR} bohr ({R_VALID_MIN_BOHR * BOHR_ANGSTROM:.2f} Å): the errors below are "
        "measured for r ≥ 1 bohr only, and the model itself (frozen atomic densities) is meaningless there.",
        "- ρ̄ > ρ̄_max: LAMMPS continues F linearly with the slope at ρ̄_max (not the ectem function).",
        "- ρ̄ near 0: F ∝ ρ̄ ln ρ̄ has a slope that diverges logarithmically; LAMMPS' cubic interpolation "
        "(first-order end slopes) is poor in the first few drho — this only matters for atoms almost "
        "isolated, whose dρ̄/dR is then tiny too.",
        "",
        "## Measured interpolation error (as LAMMPS interpolates; between-knot points)",
        f"Pair tables on {R_VALID_MIN_BOHR} bohr ≤ r ≤ taper start, max |error| / max |function| (value; slope):",
        "",
    ]
    lines += error_table_lines(err)
    lines += ["", "Verified against real LAMMPS (tests/test_lammps.py): energies and forces of random "
              "H/Li/F clusters agree with `ectem_core.potential` at the neutral ground vertex; see docs/lammps.md.", ""]
    return "\n".join(lines)


def export_lammps(bundle_path, out, style: str | None = None, background: str = "overlap", nr: int = DEFAULT_NR,
                  nrho: int = DEFAULT_NRHO, cutoff_bohr: float | None = None, rho_max: float | None = None,
                  elements: list[str] | None = None) -> dict:
    """Write OUT (setfl) and OUT.md; returns a summary dict. Nothing is written on error."""
    from ..bundle import load_bundle

    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a directory: give a file name, e.g. {out}/HLiF.eam.fs")
    if not Path(str(bundle_path)).exists():
        raise InputError(f"bundle {bundle_path} does not exist (build it with snakemake, "
                         "results/bundle/{set}.json)")
    bundle = load_bundle(bundle_path)
    t = build_setfl(bundle, style=style, background=background, nr=nr, nrho=nrho, cutoff_bohr=cutoff_bohr,
                    rho_max=rho_max, elements=elements)
    comments = (f"ectem plain-EAM limit (neutral ground states only) of bundle {bundle.get('name')} "
                f"{bundle.get('version', '')} parameters_sha256 {bundle.get('parameters_sha256')}",
                f"pair_style eam/{t.style}, background {t.background}; units metal (eV, Angstrom); "
                "rho in bohr^-3; r*phi in eV*Angstrom",
                f"no charge transfer, no ensemble weights, no Coulomb between ions; see {out.name}.md")
    text = render_setfl(t, comments)
    sha = hashlib.sha256(text.encode()).hexdigest()
    notes = render_notes(t, out.name, sha, bundle, str(bundle_path))
    write_files([(out, text), (notes_path(out), notes)])
    return {"setfl": str(out), "notes": str(notes_path(out)), "pair_style": f"eam/{t.style}",
            "background": t.background, "elements": t.symbols, "cutoff_bohr": t.info["cutoff_bohr"],
            "cutoff_angstrom": t.cutoff, "nr": t.nr, "nrho": t.nrho, "rho_max": t.info["rho_max"],
            "bytes": len(text.encode()), "sha256": sha,
            "worst_pair_relative": t.info["errors"]["worst_pair_relative"],
            "worst_density_relative": t.info["errors"]["worst_density_relative"]}
