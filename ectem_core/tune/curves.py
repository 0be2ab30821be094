"""Binding curves for tuning: the QM reference of one diatomic with its fit weights, and the
model's curve at the same distances (hartree, bohr; binding = E − Σ E_atoms).

Weights lean toward the well: w_k = exp(−(E_k − E_min)/D) with D = max(De, 0.5 eV), so the
minimum counts 1, the dissociation limit ≈ e⁻¹ and the steep repulsive wall little; each
molecule's weights are normalized to Σ w² = 1, so every molecule counts once whatever its grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..elements import HARTREE_EV as EV  # eV per hartree
from ..errors import InputError

MIN_WELL_HARTREE = 0.5 / EV


@dataclass
class Curve:
    """One molecule's reference: distances r (bohr), binding energies e_ref (hartree), weights."""

    mol: str
    a: str
    b: str
    r: np.ndarray
    e_ref: np.ndarray
    weights: np.ndarray
    source: str = ""

    @property
    def de_ref(self) -> float:
        return float(max(-self.e_ref.min(), 0.0))


def well_weights(e_ref) -> np.ndarray:
    e = np.asarray(e_ref, dtype=float)
    depth = max(-float(e.min()), MIN_WELL_HARTREE)
    w = np.exp(-(e - e.min()) / depth)
    return w / np.sqrt(np.sum(w * w))


def reference_curve(mol: str, a: str, b: str, ref_dir) -> Curve:
    """The QM reference curve of a molecule from results/molecules/{mol}/ (reference.csv/json);
    InputError when it is missing or has no usable points (an unavailable reference)."""
    from ..molecules.benchmarks import read_reference
    from ..molecules.reference import is_unavailable

    ref = read_reference(Path(ref_dir))
    if is_unavailable(ref["meta"]):
        raise InputError(f"{mol}: the QM reference is unavailable ({ref['meta'].get('reason')}); "
                         "leave it out of tune.molecules")
    cols = ref["columns"]
    r, e = np.asarray(cols["r_bohr"], float), np.asarray(cols["binding_ref_hartree"], float)
    ok = np.isfinite(r) & np.isfinite(e)
    if ok.sum() < 4:
        raise InputError(f"{mol}: the QM reference has {int(ok.sum())} finite points; tuning needs at least 4")
    order = np.argsort(r[ok])
    r, e = r[ok][order], e[ok][order]
    level = ref["meta"].get("level", {})
    src = f"{mol} {level.get('method', '?')}/{level.get('basis', '?')} ({len(r)} points)"
    return Curve(mol, a, b, r, e, well_weights(e), src)


def model_curve(pot, a: str, b: str, rs) -> tuple[np.ndarray, np.ndarray]:
    """Binding energy (hartree) and q_A of the pure-model CPE minimum at each distance."""
    from ..potential.cpe import solve

    system = pot.system([a, b])
    e, q = np.empty(len(rs)), np.empty(len(rs))
    for k, r in enumerate(rs):
        res = solve(pot, system, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, float(r)]]))
        e[k], q[k] = res.evaluation.energy, res.evaluation.charges[0]
    return e, q


def constants_of(r, e, a: str, b: str) -> dict:
    """Re (bohr), De (hartree) of a curve by `molecules.spectroscopic.constants` (NaN/0 unbound)."""
    from ..molecules.spectroscopic import constants

    c = constants(r, e, a, b)
    return {"re_bohr": float(c["re_bohr"]), "de_hartree": float(c["de_hartree"])}
