"""The setfl (DYNAMO) file of LAMMPS' eam/alloy and eam/fs styles: the table container, its
writer, a numpy copy of LAMMPS' spline (PairEAM::interpolate) and the interpolation-error
measurement. Shared by the plain-EAM export (`export.py`) and the fixed-state export
(`fixed_states.py`).

Tables are LAMMPS `units metal`: r in Å, F and r·φ in eV and eV·Å, ρ̄ in bohr⁻³ (any density
unit is allowed if ρ and F use it consistently).

`measure_errors(fun, t)` compares the tables of `t` as LAMMPS interpolates them with the
functions of `fun`, any object with
    fun.symbols                 names of the setfl "elements", in file order;
    fun.density(a, b, r)     -> (K, dK/dr): background at an a-atom from a b-atom, r in bohr;
    fun.pair(a, b, r)        -> (r·φ, d(r·φ)/dr) in hartree·bohr, hartree;
    fun.embedding[a](rho)    -> (F, F', F'') in hartree (ρ̄ in bohr⁻³).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...elements import BOHR_ANGSTROM, HARTREE_EV
from ...errors import InputError
from ...io import write_text

EV_ANGSTROM = HARTREE_EV * BOHR_ANGSTROM   # 1 hartree·bohr in eV·Å (Z_a Z_b e²/4πε₀ at r·φ(0))
R_VALID_MIN_BOHR = 1.0      # closest approach the exports are checked for
TAPER_WIDTH_BOHR = 0.5      # plain EAM: C² quintic taper of every pair table just inside the cut-off


# ------------------------------------------------------------------------------ LAMMPS spline

def lammps_spline(f: np.ndarray) -> np.ndarray:
    """Coefficients (n, 4) [c3, c4, c5, c6] of PairEAM::interpolate on unit spacing: on interval m
    (0-based, x in [m, m+1]) value = ((c3 p + c4) p + c5) p + c6, p = x − m; slopes from the
    fourth-order centred difference (first/second order at both ends), exactly as LAMMPS."""
    f = np.asarray(f, dtype=float)
    n = f.size
    s5 = np.empty(n)
    s5[0] = f[1] - f[0]
    s5[1] = 0.5 * (f[2] - f[0])
    s5[n - 2] = 0.5 * (f[n - 1] - f[n - 3])
    s5[n - 1] = f[n - 1] - f[n - 2]
    s5[2:n - 2] = ((f[0:n - 4] - f[4:n]) + 8.0 * (f[3:n - 1] - f[1:n - 3])) / 12.0
    c = np.zeros((n, 4))
    c[:, 3] = f
    c[:, 2] = s5
    c[:-1, 1] = 3.0 * (f[1:] - f[:-1]) - 2.0 * s5[:-1] - s5[1:]
    c[:-1, 0] = s5[:-1] + s5[1:] - 2.0 * (f[1:] - f[:-1])
    return c


def lammps_eval(c: np.ndarray, delta: float, x, embedding: bool = False):
    """(value, derivative) at x as PairEAM::compute evaluates a table with spacing delta
    (embedding=True: the F(ρ̄) lookup with its clamp m >= 1 and linear extrapolation past ρ̄_max)."""
    x = np.asarray(x, dtype=float)
    n = c.shape[0]
    p = x / delta + 1.0
    m = p.astype(int)
    m = np.minimum(m, n - 1)
    if embedding:
        m = np.maximum(m, 1)
    p = np.minimum(p - m, 1.0)
    k = m - 1
    c3, c4, c5, c6 = c[k, 0], c[k, 1], c[k, 2], c[k, 3]
    val = ((c3 * p + c4) * p + c5) * p + c6
    der = ((3.0 * c3 * p + 2.0 * c4) * p + c5) / delta
    if embedding:
        xmax = (n - 1) * delta
        val = np.where(x > xmax, val + der * (x - xmax), val)
    return val, der



# ------------------------------------------------------------------------------ tables

@dataclass
class Setfl:
    """Everything one setfl file holds (metal units) plus what was measured while building it."""

    style: str
    background: str
    symbols: list
    Z: list
    masses: list
    nr: int
    dr: float                 # Å
    cutoff: float             # Å
    nrho: int
    drho: float               # bohr⁻³
    F: np.ndarray             # (nel, nrho) eV
    rho: np.ndarray           # (nel_from, nel_at, nr): density at an `at` atom from a `from` atom
    z2r: dict                 # (i, j), j <= i: (nr,) r·φ in eV·Å
    info: dict = field(default_factory=dict)


def element_masses(Z) -> list[float]:
    """Atomic masses (u, ASE's table) of the atomic numbers Z: they matter only for dynamics."""
    from ase.data import atomic_masses

    return [float(atomic_masses[int(z)]) for z in Z]


def measure_errors(fun, t: Setfl, n_test: int = 20011, r_hi: float | None = None) -> dict:
    """Error of the tables as LAMMPS interpolates them (lammps_spline/lammps_eval) against the
    ectem functions of `fun` (module docstring) at points between the knots: pair tables on
    [R_VALID_MIN, r_hi] (default: the taper start; relative to the function's max |value| and
    max |slope| there); embedding functions per decade of ρ̄ (absolute, eV and eV·bohr³)."""
    n = len(t.symbols)
    r_on = r_hi if r_hi is not None else t.info.get("taper_on_bohr", t.cutoff / BOHR_ANGSTROM - TAPER_WIDTH_BOHR)
    rng = np.random.default_rng(0)
    rb = np.sort(rng.uniform(R_VALID_MIN_BOHR, r_on, n_test))
    ra = rb * BOHR_ANGSTROM
    res = {"density": {}, "pair": {}, "embedding": {}}
    worst_d = worst_p = 0.0
    for b in range(n):
        for a in range(n):
            v_ref, d_ref = fun.density(a, b, rb)
            v, d = lammps_eval(lammps_spline(t.rho[b, a]), t.dr, ra)
            d = d * BOHR_ANGSTROM  # per Å → per bohr
            ev = float(np.max(np.abs(v - v_ref)) / np.max(np.abs(v_ref)))
            ed = float(np.max(np.abs(d - d_ref)) / np.max(np.abs(d_ref)))
            res["density"][f"{t.symbols[a]}<-{t.symbols[b]}"] = {"value": ev, "slope": ed}
            worst_d = max(worst_d, ev, ed)
    for i in range(n):
        for j in range(i + 1):
            zr, dzr = fun.pair(i, j, rb)
            # compare φ and dφ/dr (what LAMMPS uses) in hartree, hartree/bohr
            phi_ref, dphi_ref = zr / rb, (dzr - zr / rb) / rb
            z, dz = lammps_eval(lammps_spline(t.z2r[i, j]), t.dr, ra)
            phi = z / ra / HARTREE_EV
            dphi = (dz / ra - z / ra / ra) / HARTREE_EV * BOHR_ANGSTROM
            ev = float(np.max(np.abs(phi - phi_ref)) / np.max(np.abs(phi_ref)))
            ed = float(np.max(np.abs(dphi - dphi_ref)) / np.max(np.abs(dphi_ref)))
            res["pair"][f"{t.symbols[i]}-{t.symbols[j]}"] = {"value": ev, "slope": ed}
            worst_p = max(worst_p, ev, ed)
    rho_max = (t.nrho - 1) * t.drho
    decades = []
    hi = rho_max
    while hi > 50 * t.drho and len(decades) < 8:
        lo = max(hi / 10.0, 10 * t.drho)
        decades.append((lo, hi))
        hi = lo
    for a in range(n):
        c = lammps_spline(t.F[a])
        rows = []
        for lo, hi in decades:
            x = np.exp(rng.uniform(math.log(lo), math.log(hi), 4001))
            F_ref, dF_ref, _ = fun.embedding[a](x)
            v, d = lammps_eval(c, t.drho, x, embedding=True)
            rows.append({"rho_lo": lo, "rho_hi": hi,
                         "max_abs_F_eV": float(np.max(np.abs(F_ref))) * HARTREE_EV,
                         "err_F_eV": float(np.max(np.abs(v - F_ref * HARTREE_EV))),
                         "max_abs_dF": float(np.max(np.abs(dF_ref))) * HARTREE_EV,
                         "err_dF": float(np.max(np.abs(d - dF_ref * HARTREE_EV)))})
        res["embedding"][t.symbols[a]] = rows
    res["worst_pair_relative"] = worst_p
    res["worst_density_relative"] = worst_d
    return res


# ------------------------------------------------------------------------------ files

def _block(values, per_line: int = 5) -> str:
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        raise InputError("internal: a table holds a non-finite value")  # pragma: no cover
    s = [f"{x: .12e}" for x in v]
    return "\n".join(" ".join(s[k:k + per_line]) for k in range(0, len(s), per_line)) + "\n"


def render_setfl(t: Setfl, comments: tuple[str, str, str]) -> str:
    """The DYNAMO setfl text (eam/alloy or eam/fs layout)."""
    n = len(t.symbols)
    parts = [c.replace("\n", " ") + "\n" for c in comments]
    parts.append(f"{n} {' '.join(t.symbols)}\n")
    parts.append(f"{t.nrho} {t.drho!r} {t.nr} {t.dr!r} {t.cutoff!r}\n")
    for a in range(n):
        parts.append(f"{t.Z[a]} {t.masses[a]!r} 0.0 none\n")
        parts.append(_block(t.F[a]))
        if t.style == "alloy":
            parts.append(_block(t.rho[a, 0]))
        else:   # eam/fs: block of element a lists the density a contributes at each element's atoms
            for at in range(n):
                parts.append(_block(t.rho[a, at]))
    for i in range(n):
        for j in range(i + 1):
            parts.append(_block(t.z2r[i, j]))
    return "".join(parts)


def _fmt(x: float) -> str:
    return f"{x:.2e}"


def error_table_lines(err: dict, label: str = "element") -> list[str]:
    """Markdown tables of a `measure_errors` result (pair tables, then embedding functions by
    range of ρ̄); `label` heads the first column of the embedding table."""
    lines = ["| table | value | slope |", "|---|---|---|"]
    for k, v in err["density"].items():
        lines.append(f"| density {k} | {_fmt(v['value'])} | {_fmt(v['slope'])} |")
    for k, v in err["pair"].items():
        lines.append(f"| φ {k} | {_fmt(v['value'])} | {_fmt(v['slope'])} |")
    lines += ["", "Embedding functions, per range of ρ̄ (bohr⁻³): max |ΔF| (eV) and max |ΔF′| (eV·bohr³) "
              "with the range's max |F| and |F′|:", "", f"| {label} | ρ̄ range | max|F| | err F | max|F′| | err F′ |",
              "|---|---|---|---|---|---|"]
    for sym, rows in err["embedding"].items():
        for r in rows:
            lines.append(f"| {sym} | {r['rho_lo']:.2e}–{r['rho_hi']:.2e} | {_fmt(r['max_abs_F_eV'])} | "
                         f"{_fmt(r['err_F_eV'])} | {_fmt(r['max_abs_dF'])} | {_fmt(r['err_dF'])} |")
    return lines


def notes_path(out: Path) -> Path:
    return Path(str(out) + ".md")


def write_files(files: list[tuple[Path, str]]) -> None:
    """Write every (path, text) atomically; if one fails, the ones already written are removed
    again, so an export leaves all of its files or none."""
    done = []
    try:
        for path, text in files:
            write_text(path, text)
            done.append(Path(path))
    except BaseException:
        for path in done:
            path.unlink(missing_ok=True)
        raise


