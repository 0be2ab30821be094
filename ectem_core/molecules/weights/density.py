"""Density weights: the ensemble weights c_is that best reproduce a molecular reference
density with the bundle's fitted (Slater shells + tail) state densities (docs/weights.md).

    ρ_c(r) = Σ_i Σ_s c_is ρ_is(|r − R_i|),  c_is ≥ 0,  Σ_s c_is = 1 per atom,  Σ_i q_i = Q,
    q_is = Z_i − N_is.

Losses on a PySCF Becke grid (points r_g, weights w_g), both convex in c:
  'kl'        extended Kullback–Leibler divergence (the MBIS form)
              Σ_g w_g [ρ_mol ln(ρ_mol/ρ_c) − ρ_mol + ρ_c]                  (default)
  'rweighted' ½ Σ_g w_g d_g² (ρ_mol − ρ_c)², d_g = distance to the nearest nucleus
              (the molecular analogue of the stage-2 radial-distribution fit).
The optimum is found by SLSQP and polished by an active-set Newton method in the null space
of the equality constraints (KKT conditions checked, constraints exact to 1e-12).

Units: bohr, electrons/bohr³, charges in e. The state densities are the *fitted* ones from
the bundle, not the QM densities, so at dissociation q → 0 only to the fit error
(`dissociation_tolerance`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ...errors import EctemError, InputError
from ...potential.simplex import minimize_on_simplex, null_space

LOSSES = ("kl", "rweighted")
STATE_DENSITIES = "fitted (bundle Slater shells + tail), not QM"
_TINY = 1e-300


# ---------------------------------------------------------------------------- state basis
@dataclass
class StateBasis:
    """The weight layout of a set of atoms: per atom its state ids, charges q_is, electron
    counts N_is and fitted RadialDensity objects (None for a bare nucleus); flat vector
    atom by atom, exactly as ECTModel.system lays it out."""

    symbols: list
    state_ids: list
    charges: list
    n_electrons: list
    densities: list
    offsets: np.ndarray

    @property
    def n_weights(self) -> int:
        return int(self.offsets[-1])

    def slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def charge_vector(self) -> np.ndarray:
        return np.concatenate([np.asarray(q, float) for q in self.charges])

    def atom_charges(self, c: np.ndarray) -> np.ndarray:
        qv = self.charge_vector() * c
        return np.array([qv[self.slice(i)].sum() for i in range(len(self.symbols))])

    def constraints(self, Q: float | None):
        """Equality rows: one simplex row per atom, then Σ q = Q (omitted when Q is None)."""
        n, m = len(self.symbols), self.n_weights
        rows = [np.zeros(m) for _ in range(n)]
        for i in range(n):
            rows[i][self.slice(i)] = 1.0
        b = [1.0] * n
        if Q is not None:
            rows.append(self.charge_vector())
            b.append(float(Q))
        return np.array(rows), np.array(b)


def _bundle_of(bundle_or_potential):
    """(bundle dict, proton flag, state order per element or None) from a path, dict or Potential."""
    from ...potential.bundle import load_bundle
    from ...potential.model import ECTModel

    if isinstance(bundle_or_potential, ECTModel):
        bundle = getattr(bundle_or_potential, "bundle", None)
        if bundle is None:
            raise InputError("this Potential does not carry its bundle (state densities): pass the bundle "
                             "path or dict to fit_density_weights instead")
        order = {e.symbol: list(e.state_ids) for e in bundle_or_potential.elements}
        return bundle, bool(bundle_or_potential.options.proton), order
    if isinstance(bundle_or_potential, dict):
        if "states" not in bundle_or_potential or "elements" not in bundle_or_potential:
            raise InputError("bundle dict lacks 'states'/'elements': pass an ectem bundle")
        return bundle_or_potential, None, None
    return load_bundle(bundle_or_potential), None, None


def state_basis(bundle_or_potential, symbols, proton: bool | None = None) -> StateBasis:
    """The fitted state densities of `symbols` from a bundle (path or dict) or a Potential
    carrying `.bundle`. Zero-electron states (H⁺) are left out unless proton=True, as in
    potential.load_potential, so the layout matches the CPE weights."""
    from ...density.slater import RadialDensity

    bundle, pot_proton, order = _bundle_of(bundle_or_potential)
    if proton is None:
        proton = bool(pot_proton)
    by_id = {s["state_id"]: s for s in bundle["states"]}
    ids_out, q_out, n_out, rd_out, sizes = [], [], [], [], []
    cache: dict = {}
    for sym in symbols:
        if sym not in bundle["elements"]:
            raise InputError(f"element {sym!r} is not in bundle {bundle.get('name')!r} "
                             f"(it has {', '.join(bundle['elements'])})")
        if order is not None:
            ids = order[sym]
        else:
            ids = [s["state_id"] for s in bundle["states"]
                   if s["symbol"] == sym and (proton or s["n_electrons"] > 0)]
        if sym not in cache:
            rds = []
            for sid in ids:
                st = by_id[sid]
                rds.append(RadialDensity.from_dict(st["density"]) if st["n_electrons"] > 0 else None)
            cache[sym] = rds
        ids_out.append(list(ids))
        q_out.append(np.array([by_id[s]["charge"] for s in ids], dtype=float))
        n_out.append(np.array([by_id[s]["n_electrons"] for s in ids], dtype=float))
        rd_out.append(cache[sym])
        sizes.append(len(ids))
    return StateBasis(list(symbols), ids_out, q_out, n_out, rd_out,
                      np.concatenate([[0], np.cumsum(sizes)]).astype(int))


# ---------------------------------------------------------------------------- grid and densities
def molecular_grid(mol, grid_level: int = 3):
    """Becke grid of a PySCF molecule: (coords (n, 3) bohr, weights (n,) bohr³)."""
    from pyscf.dft import gen_grid

    if not isinstance(grid_level, (int, np.integer)) or not 0 <= int(grid_level) <= 9:
        raise InputError(f"grid_level must be an integer 0..9 (PySCF grid level), got {grid_level!r}")
    grids = gen_grid.Grids(mol)
    grids.level = int(grid_level)
    grids.verbose = 0
    grids.build(with_non0tab=False)
    return np.asarray(grids.coords), np.asarray(grids.weights)


def molecular_density(mol, dm, coords) -> np.ndarray:
    """ρ_mol at `coords` from a spin-summed AO density matrix (electrons/bohr³)."""
    from pyscf.dft import numint

    dm = np.asarray(dm, dtype=float)
    if dm.ndim == 3 and dm.shape[0] == 2:
        dm = dm[0] + dm[1]
    if dm.shape != (mol.nao_nr(), mol.nao_nr()):
        raise InputError(f"density matrix has shape {dm.shape}, the molecule has {mol.nao_nr()} AOs: "
                         "pass the spin-summed AO 1-RDM of this molecule")
    rho = np.empty(len(coords))
    for a in range(0, len(coords), 20000):
        ao = numint.eval_ao(mol, coords[a:a + 20000], deriv=0)
        rho[a:a + 20000] = numint.eval_rho(mol, ao, dm, xctype="LDA")
    return rho


def basis_on_grid(basis: StateBasis, positions, coords) -> np.ndarray:
    """Φ[g, k] = ρ_k(|r_g − R_atom(k)|) for every state column k (electrons/bohr³)."""
    from ...density.slater import density

    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    Phi = np.zeros((len(coords), basis.n_weights))
    for i in range(len(basis.symbols)):
        r = np.linalg.norm(coords - pos[i], axis=1)
        for k, rd in enumerate(basis.densities[i]):
            if rd is not None:
                Phi[:, basis.offsets[i] + k] = density(rd, r)
    return Phi


def nearest_nucleus_distance(positions, coords) -> np.ndarray:
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    return np.min(np.linalg.norm(coords[:, None, :] - pos[None, :, :], axis=2), axis=1)


# ---------------------------------------------------------------------------- losses
class GridLoss:
    """A convex loss of the weights on a grid: value, gradient and Hessian."""

    def __init__(self, Phi, rho_mol, w, loss: str, dist=None):
        if loss not in LOSSES:
            raise InputError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
        self.Phi, self.w, self.loss = Phi, w, loss
        self.rho = np.where(rho_mol > 0, rho_mol, 0.0)
        if loss == "rweighted":
            if dist is None:
                raise InputError("the rweighted loss needs the nearest-nucleus distances")
            self.metric = w * dist ** 2
            self.G = Phi.T @ (self.metric[:, None] * Phi)
            self.h = Phi.T @ (self.metric * self.rho)
            self.c0 = 0.5 * float(self.metric @ self.rho ** 2)
            self.f_scale = self.c0
        else:
            pos = self.rho > 0
            self.kl_const = float(w[pos] @ (self.rho[pos] * np.log(self.rho[pos])) - w @ self.rho)
            self.colsum = Phi.T @ w
            self.f_scale = float(w[pos] @ (self.rho[pos] * np.abs(np.log(self.rho[pos]))) + w @ self.rho)

    def __call__(self, c, hess: bool = True):
        if self.loss == "rweighted":
            Gc = self.G @ c
            f = self.c0 - self.h @ c + 0.5 * c @ Gc
            return f, Gc - self.h, (self.G if hess else None)
        rc = np.maximum(self.Phi @ c, _TINY)
        t = self.w * self.rho
        f = self.kl_const - float(t @ np.log(rc)) + float(self.colsum @ c)
        ratio = t / rc
        g = self.colsum - self.Phi.T @ ratio
        H = self.Phi.T @ ((ratio / rc)[:, None] * self.Phi) if hess else None
        return f, g, H


def condition_numbers(H, A, c, support_tol=1e-12):
    """Condition number of the loss Hessian (Gram matrix in the loss metric) restricted to the
    feasible subspace null(A): over all weights, and over the face of non-zero weights."""
    def cond(Hm, Am):
        Z = null_space(Am)
        if Z.shape[1] == 0:
            return 1.0
        ev = np.linalg.eigvalsh(Z.T @ Hm @ Z)
        return float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")

    sup = np.flatnonzero(c > support_tol)
    return cond(H, A), cond(H[np.ix_(sup, sup)], A[:, sup])


# ---------------------------------------------------------------------------- public fit
@dataclass
class DensityWeights:
    """Result of a density-weight fit (atomic units; charges in e)."""

    symbols: list
    state_ids: list
    weights: np.ndarray          # flat, atom by atom
    charges: np.ndarray          # q_i
    total_charge: float | None   # the imposed Σ q_i (None: charge left free)
    loss: str
    loss_value: float
    fit_residual: float          # ∫|ρ_mol − ρ_c| / N
    condition_number: float      # reduced Hessian on null(A), all weights
    condition_number_face: float  # the same on the face of non-zero weights
    n_grid: int
    grid_level: int
    n_electrons_grid: float      # ∫ρ_mol on the grid (check of the grid)
    n_electrons_model: float     # ∫ρ_c on the grid
    constraint_residual: float   # max |A c − b|
    kkt_residual: float
    converged: bool
    state_densities: str = STATE_DENSITIES
    extra: dict = field(default_factory=dict)

    def weights_by_atom(self) -> list[dict]:
        out, k = [], 0
        for ids in self.state_ids:
            out.append({sid: float(self.weights[k + j]) for j, sid in enumerate(ids)})
            k += len(ids)
        return out

    def as_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = self.weights_by_atom()
        d["charges"] = [float(q) for q in self.charges]
        return d


def fit_on_grid(basis: StateBasis, positions, coords, gw, rho_mol, loss: str = "kl", Q: float | None = 0.0,
                grid_level: int = -1, extra: dict | None = None) -> DensityWeights:
    """The fit for a density already on a grid (coords bohr, weights gw bohr³). Q=None leaves
    the total charge free (isolated-atom tolerance fits)."""
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
    rho_mol = np.asarray(rho_mol, dtype=float)
    if rho_mol.shape != (len(coords),) or not np.all(np.isfinite(rho_mol)):
        raise InputError("reference density must be finite and have one value per grid point")
    Phi = basis_on_grid(basis, positions, coords)
    dist = nearest_nucleus_distance(positions, coords) if loss == "rweighted" else None
    L = GridLoss(Phi, rho_mol, gw, loss, dist)
    A, b = basis.constraints(Q)
    c, info = minimize_on_simplex(L, A, b)
    f, _, H = L(c)
    cn, cn_face = condition_numbers(H, A, c)
    rc = Phi @ c
    n_grid_e = float(gw @ rho_mol)
    return DensityWeights(
        symbols=list(basis.symbols), state_ids=[list(s) for s in basis.state_ids], weights=c,
        charges=basis.atom_charges(c), total_charge=None if Q is None else float(Q), loss=loss,
        loss_value=float(f), fit_residual=float(gw @ np.abs(rho_mol - rc)) / n_grid_e,
        condition_number=cn, condition_number_face=cn_face, n_grid=int(len(gw)), grid_level=int(grid_level),
        n_electrons_grid=n_grid_e, n_electrons_model=float(gw @ rc),
        constraint_residual=float(np.abs(A @ c - b).max()), kkt_residual=info["kkt_residual"],
        converged=info["converged"], extra={**info, **(extra or {}), "min_rho_mol": float(rho_mol.min())})


def _mol_symbols(mol):
    return [mol.atom_pure_symbol(i) for i in range(mol.natm)]


def fit_density_weights(bundle_or_potential, mol, dm, loss: str = "kl", grid_level: int = 3,
                        Q: float | None = "molecule", proton: bool | None = None) -> DensityWeights:
    """Fit a molecular reference density (PySCF `mol`, spin-summed AO 1-RDM `dm`) with the
    bundle's fitted state densities on a Becke grid of level `grid_level`. The total charge
    Σ q_i is fixed to the molecule's charge (Q="molecule"), to a number, or left free (None)."""
    if not hasattr(mol, "atom_coords") or not hasattr(mol, "nao_nr"):
        raise InputError("mol must be a built pyscf.gto.Mole (e.g. pyscf.gto.loads(npz['mol']))")
    if isinstance(Q, str):
        if Q != "molecule":
            raise InputError(f"Q must be a number, None or 'molecule', got {Q!r}")
        Q = float(mol.charge)
    basis = state_basis(bundle_or_potential, _mol_symbols(mol), proton)
    coords, gw = molecular_grid(mol, grid_level)
    rho = molecular_density(mol, dm, coords)
    n_dm = float(mol.nelectron)
    res = fit_on_grid(basis, mol.atom_coords(), coords, gw, rho, loss, Q, grid_level,
                      extra={"n_electrons_mol": n_dm})
    return res


# ---------------------------------------------------------------------------- tolerance at dissociation
def dissociation_tolerance(bundle_or_potential, atoms: dict, loss: str = "kl", grid_level: int = 3,
                           proton: bool | None = None) -> dict:
    """How far from q = 0 a separated pair can be pushed by the mismatch δρ between the fitted
    state densities and the reference level: fit each isolated neutral atom's QM density
    (`atoms`: {symbol: (mol, dm)} at the molecule's level) with the same loss and grid level and
    the total charge left free. Its charge q*_X is the mismatch expressed as a charge.

    For two non-overlapping atoms the pair loss separates, L = L_A(c_A) + L_B(c_B); each
    profile φ_X(q) = min L_X at fixed q_X is convex with minimum at q*_X, so the minimum of
    φ_A(q) + φ_B(−q) lies between q*_A and −q*_B: |q_A| ≤ max(|q*_A|, |q*_B|) = tolerance."""
    out = {}
    for sym, (mol, dm) in atoms.items():
        if mol.natm != 1 or _mol_symbols(mol)[0] != sym:
            raise InputError(f"dissociation_tolerance: the reference for {sym} must be a single {sym} atom")
        out[sym] = fit_density_weights(bundle_or_potential, mol, dm, loss, grid_level, Q=None, proton=proton)
    return {"q_free": {s: float(r.charges[0]) for s, r in out.items()},
            "tolerance": max(abs(float(r.charges[0])) for r in out.values()),
            "fits": out}


def load_reference(path) -> dict:
    """A molecular reference `density_R{R:.3f}.npz` (keys mol, dm, r_bohr, branch, energy_hartree,
    symbols, positions_bohr) with `mol` rebuilt as a pyscf Mole."""
    from ..reference import read_density

    d = read_density(path)
    p, mol = path, d["mol"]
    if mol.natm != len(d["symbols"]):
        raise EctemError(f"{p}: mol has {mol.natm} atoms but symbols lists {len(d['symbols'])}")
    pos = np.asarray(d["positions_bohr"], float).reshape(-1, 3)
    if pos.shape != (mol.natm, 3) or np.abs(pos - mol.atom_coords()).max() > 1e-6:
        raise InputError(f"{p}: positions_bohr do not match the geometry of 'mol' (bohr): rewrite the reference")
    return {"mol": mol, "dm": d["dm"], "r_bohr": float(d["r_bohr"]), "branch": str(d["branch"]),
            "energy_hartree": float(d["energy_hartree"]), "symbols": [str(s) for s in d["symbols"]],
            "positions_bohr": pos, "path": str(p)}
