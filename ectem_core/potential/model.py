"""The ECT-EAM energy for molecules and clusters (atomic units).

E(R, c) = Σ_i Σ_s c_is [ΔE_is + F_is(ρ̄_i)] + ½ Σ_{i≠j} Σ_{s,t} c_is c_jt U_{is,jt}(R_ij) [+ E_coupling]

ρ̄_i = Σ_s c_is σ_is,  σ_is = (1/N_is) Σ_{j≠i} Σ_t c_jt S_{is,jt}(R_ij)   (overlap average, default)
                       σ_is = Σ_{j≠i} Σ_t c_jt ρ_jt(R_ij)                 (point sampling; always for N_is = 0)

The same weights c multiply densities and energies (one code path: `_terms`). Weights live
in one flat vector, atom by atom (`System.offsets`). Variants:
  'pure'       the paper's model as specified;
  'resonance'  + E_coupling = −2 Σ_{i<j} H_ij(R) Σ_{ch} √(w_N w_ch + ε²) − ε: a valence-bond
               resonance between the neutral pair configuration (weight w_N = c_i0 c_j0) and each
               charge-transfer configuration (w_ch = c_i+ c_j− or c_i− c_j+), H_ij = η s_ij(R),
               s_ij the normalized overlap of the two neutral ground-state densities, which
               vanishes exponentially at large R (q → 0 exactly there).
  'thermal'    + E_T = Σ_i T_i Σ_q p_iq ln p_iq, p_iq = Σ_{s: q_s = q} c_is: an electronic
               temperature on each atom's charge distribution (not on its excitations),
               switched on by its neighbours, T_i = Σ_{j≠i} τ_ij(R_ij),
               τ_ij(R) = T0,ij / (1 + exp((R − R_s,ij)/w)), R_s,ij = R_c + d, R_c = 1/Δ_ij, Δ_ij the
               smaller charge-transfer gap min(IP_i − EA_j, IP_j − EA_i) of the pair (from ΔE),
               T0,ij = γ/(4 R_c) (γ = t_gamma). Beyond the
               diabatic crossing R_c = 1/Δ the temperature dies exponentially (q → 0 there), inside it
               the entropy makes the CT direction convex (needs T ≳ 1/(4R)), so weights are fractional
               and the switch is smooth. τ ≡ 0 beyond R_s + 40 w.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

VARIANTS = ("pure", "resonance", "thermal")
BACKGROUNDS = ("overlap", "point")


@dataclass
class ElementStates:
    """The ensemble of one element as the potential uses it."""

    symbol: str
    Z: int
    state_ids: list
    charge: np.ndarray
    n_electrons: np.ndarray
    delta_e: np.ndarray
    embedding: list            # callables F(rho) -> (F, dF, d2F)
    ground: int                # index of the neutral ground state
    cation: int | None = None  # index of the +1 ground state (resonance variant)
    anion: int | None = None   # index of the -1 ground state


@dataclass
class System:
    """Atoms of one configuration: element index per atom and weight-vector layout."""

    symbols: list
    element_index: np.ndarray
    offsets: np.ndarray        # start of each atom's weights in the flat vector; len n_atoms + 1

    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    def slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


@dataclass
class ModelOptions:
    """Physics options (docs/model.md section 4). eta: resonance coupling strength (hartree)."""

    variant: str = "pure"
    background: str = "overlap"
    proton: bool = False
    eta: float = 0.05
    epsilon: float = 1e-9
    t_gamma: float = 1.5    # thermal: plateau temperature T0 = t_gamma·Δ/4 (≥ 1 makes the CT direction convex at R_c)
    t_shift: float = 3.0    # thermal: switch-off distance beyond the diabatic crossing (bohr)
    t_width: float = 1.0    # thermal: width of the Fermi switch (bohr)

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise InputError(f"unknown variant {self.variant!r}: use one of {', '.join(VARIANTS)}")
        if self.background not in BACKGROUNDS:
            raise InputError(f"unknown background {self.background!r}: use one of {', '.join(BACKGROUNDS)}")
        if self.t_gamma < 0 or self.t_width <= 0:
            raise InputError(f"thermal variant needs t_gamma >= 0 and t_width > 0 (got {self.t_gamma}, {self.t_width})")


@dataclass
class Evaluation:
    """Energy (hartree), its gradient with respect to the weights and to positions
    (hartree/bohr), charges and background densities at one (R, c); `strain`: dE/dε (3×3,
    hartree) under a homogeneous strain of positions (and cell), where the evaluator gives it
    (fastmodel with forces): stress = strain / volume."""

    energy: float
    grad_c: np.ndarray
    grad_r: np.ndarray
    charges: np.ndarray
    rho_bar: np.ndarray
    parts: dict = field(default_factory=dict)
    strain: np.ndarray | None = None


class ECTModel:
    """ECT-EAM energy of a set of elements. `pairs` provides, for element indices (ea, eb)
    and a distance R, the state-pair matrices S (overlap), U (Coulomb), their R-derivatives,
    the point densities of b's states at R, and the self-overlaps (see PairProvider)."""

    def __init__(self, elements: list[ElementStates], pairs, options: ModelOptions | None = None):
        self.elements = elements
        self.index = {e.symbol: k for k, e in enumerate(elements)}
        self.pairs = pairs
        self.options = options or ModelOptions()
        self._switch = {}

    # ------------------------------------------------------------------ thermal variant
    def ct_gap(self, ka: int, kb: int) -> float | None:
        """Smaller charge-transfer gap min(IP_a − EA_b, IP_b − EA_a) (hartree), from ΔE of the
        +1 and −1 ground states; None when neither direction exists in the ensembles."""
        a, b = self.elements[ka], self.elements[kb]
        gaps = []
        for d, acc in ((a, b), (b, a)):
            if d.cation is not None and acc.anion is not None:
                gaps.append(d.delta_e[d.cation] + acc.delta_e[acc.anion])  # IP_d − EA_acc
        return min(gaps) if gaps else None

    def switch_distance(self, ka: int, kb: int) -> float | None:
        """R_s = 1/Δ + d (bohr) of the thermal variant, None when the pair cannot transfer charge."""
        key = (min(ka, kb), max(ka, kb))
        if key not in self._switch:
            gap = self.ct_gap(*key)
            self._switch[key] = None if gap is None or gap <= 0 else 1.0 / gap + self.options.t_shift
        return self._switch[key]

    def temperature(self, ka: int, kb: int, R: float) -> tuple[float, float]:
        """τ_ab(R) and dτ/dR (hartree, hartree/bohr) of the thermal variant."""
        rs = self.switch_distance(ka, kb)
        if rs is None:
            return 0.0, 0.0
        w = self.options.t_width
        t0 = self.options.t_gamma * 0.25 / (rs - self.options.t_shift)  # γ/(4 R_c) = γΔ/4
        if rs is None or t0 == 0 or R > rs + 40.0 * w:
            return 0.0, 0.0
        x = (R - rs) / w
        if x < -40.0:
            return t0, 0.0
        e = np.exp(x)
        f = 1.0 / (1.0 + e)
        return t0 * f, -t0 * e * f * f / w

    # ------------------------------------------------------------------ layout
    def system(self, symbols: list[str]) -> System:
        try:
            idx = np.array([self.index[s] for s in symbols], dtype=int)
        except KeyError as exc:
            raise InputError(f"element {exc.args[0]!r} is not in this bundle "
                             f"(it has {', '.join(self.index)})") from None
        sizes = [len(self.elements[k].state_ids) for k in idx]
        return System(list(symbols), idx, np.concatenate([[0], np.cumsum(sizes)]).astype(int))

    def ground_weights(self, system: System) -> np.ndarray:
        """Every atom in its neutral ground state."""
        c = np.zeros(system.offsets[-1])
        for i, k in enumerate(system.element_index):
            c[system.offsets[i] + self.elements[k].ground] = 1.0
        return c

    def charge_vector(self, system: System) -> np.ndarray:
        """q_is = Z − N_is laid out like the weights (so q_i = Σ_s c_is q_is)."""
        ei = np.asarray(system.element_index, dtype=np.int64)
        flat = np.concatenate([np.asarray(e.charge, dtype=float) for e in self.elements])
        nst = np.array([len(e.charge) for e in self.elements], dtype=np.int64)
        first = np.concatenate([[0], np.cumsum(nst)[:-1]])
        offsets = np.asarray(system.offsets, dtype=np.int64)
        # weight slot w of atom i (offsets[i] <= w < offsets[i + 1]) is state w − offsets[i] of its element
        owner = np.repeat(np.arange(ei.size), nst[ei])
        return flat[first[ei][owner] + np.arange(offsets[-1]) - offsets[:-1][owner]]

    def charges(self, system: System, c: np.ndarray) -> np.ndarray:
        qv = self.charge_vector(system) * c
        return np.array([qv[system.slice(i)].sum() for i in range(system.n_atoms)])

    # ------------------------------------------------------------------ energy
    def evaluate(self, system: System, positions: np.ndarray, c: np.ndarray, want_forces: bool = True) -> Evaluation:
        """Energy relative to the separated neutral ground-state atoms, dE/dc, dE/dR."""
        opt = self.options
        pos = np.asarray(positions, dtype=float).reshape(-1, 3)
        n = system.n_atoms
        el = [self.elements[k] for k in system.element_index]
        cs = [c[system.slice(i)] for i in range(n)]
        sigma = [np.zeros(len(e.state_ids)) for e in el]
        K, dK, U, dU, rvec = {}, {}, {}, {}, {}
        for i in range(n):
            for j in range(i + 1, n):
                d = pos[i] - pos[j]
                R = float(np.sqrt(d @ d))
                if R < 1e-8:
                    raise InputError(f"atoms {i} and {j} coincide")
                p = self.pairs.evaluate(system.element_index[i], system.element_index[j], R)
                K[i, j], dK[i, j] = self._kernel(el[i], p["S"], p["dS"], p["rho_b"], p["drho_b"])
                K[j, i], dK[j, i] = self._kernel(el[j], p["S"].T, p["dS"].T, p["rho_a"], p["drho_a"])
                U[i, j], dU[i, j] = p["U"], p["dU"]
                rvec[i, j] = (d / R, R, p)
                sigma[i] += K[i, j] @ cs[j]
                sigma[j] += K[j, i] @ cs[i]
        rho_bar = np.array([cs[i] @ sigma[i] for i in range(n)])
        F = [np.array([f(rho_bar[i])[0] for f in el[i].embedding]) for i in range(n)]
        dF = [np.array([f(rho_bar[i])[1] for f in el[i].embedding]) for i in range(n)]
        # G_i = Σ_s c_is F'_is(ρ̄_i); an isolated atom (ρ̄ = 0) has no background to respond to,
        # so its (possibly divergent, Baskes-like ln ρ̄) slope never multiplies anything.
        G = np.array([cs[i] @ dF[i] if rho_bar[i] > 0 else 0.0 for i in range(n)])
        e_onsite = sum(cs[i] @ el[i].delta_e for i in range(n))
        e_embed = sum(cs[i] @ F[i] for i in range(n))
        e_coul = sum(cs[i] @ U[i, j] @ cs[j] for (i, j) in U)
        grad_c = np.zeros_like(c)
        for i in range(n):
            grad_c[system.slice(i)] += el[i].delta_e + F[i] + G[i] * sigma[i]
        for (i, j), Kij in K.items():
            grad_c[system.slice(j)] += G[i] * (Kij.T @ cs[i])
        for (i, j), Uij in U.items():
            grad_c[system.slice(i)] += Uij @ cs[j]
            grad_c[system.slice(j)] += Uij.T @ cs[i]
        grad_r = np.zeros_like(pos)
        for (i, j), (u, _R, _p) in rvec.items():
            dEdR = G[i] * (cs[i] @ dK[i, j] @ cs[j]) + G[j] * (cs[j] @ dK[j, i] @ cs[i]) + cs[i] @ dU[i, j] @ cs[j]
            grad_r[i] += dEdR * u
            grad_r[j] -= dEdR * u
        e_res = 0.0
        if opt.variant == "resonance":
            e_res = self._resonance(system, el, cs, rvec, grad_c, grad_r)
        elif opt.variant == "thermal":
            e_res = self._thermal(system, cs, rvec, grad_c, grad_r)
        energy = float(e_onsite + e_embed + e_coul + e_res)
        return Evaluation(energy, grad_c, grad_r, self.charges(system, c), rho_bar,
                          {"onsite": float(e_onsite), "embedding": float(e_embed), "coulomb": float(e_coul),
                           "coupling": float(e_res)})

    def _kernel(self, ea: ElementStates, S, dS, rho_b, drho_b):
        """K[s, t]: background seen by state s of atom a from state t of atom b (and dK/dR)."""
        ns, nt = S.shape
        if self.options.background == "point":
            return np.tile(rho_b, (ns, 1)), np.tile(drho_b, (ns, 1))
        N = ea.n_electrons.astype(float)
        K = np.empty((ns, nt))
        dK = np.empty((ns, nt))
        for s in range(ns):
            if N[s] > 0:
                K[s], dK[s] = S[s] / N[s], dS[s] / N[s]
            else:  # bare nucleus: point sampling at the nucleus
                K[s], dK[s] = rho_b, drho_b
        return K, dK

    def _thermal(self, system, cs, rvec, grad_c, grad_r) -> float:
        """Σ_i T_i Σ_q p_iq ln p_iq, p_iq = Σ_{s: q_s = q} c_is (the atom's charge distribution),
        with neighbour-switched temperatures (see module docstring)."""
        n = system.n_atoms
        T = np.zeros(n)
        dT = {}
        for (i, j), (_u, R, _p) in rvec.items():
            t, dt = self.temperature(system.element_index[i], system.element_index[j], R)
            T[i] += t
            T[j] += t
            dT[i, j] = dt
        H = np.zeros(n)
        for i in range(n):
            q = self.elements[system.element_index[i]].charge
            groups = {int(v): q == v for v in np.unique(q)}
            p = {v: cs[i][m].sum() for v, m in groups.items()}
            H[i] = sum(pv * np.log(pv) for pv in p.values() if pv > 0)
            if T[i] > 0:
                g = grad_c[system.slice(i)]
                for v, m in groups.items():
                    g[m] += T[i] * (np.log(max(p[v], 1e-300)) + 1.0)
        for (i, j), dt in dT.items():
            if dt != 0.0:
                u = rvec[i, j][0]
                dEdR = dt * (H[i] + H[j])
                grad_r[i] += dEdR * u
                grad_r[j] -= dEdR * u
        return float(T @ H)

    def _resonance(self, system, el, cs, rvec, grad_c, grad_r) -> float:
        """VB coupling between the neutral pair and its charge-transfer configurations."""
        eta, eps = self.options.eta, self.options.epsilon
        total = 0.0
        for (i, j), (u, _R, p) in rvec.items():
            a, b = el[i], el[j]
            s_norm, ds_norm = p["s_neutral"], p["ds_neutral"]
            H, dH = eta * s_norm, eta * ds_norm
            a0, b0 = a.ground, b.ground
            wN = cs[i][a0] * cs[j][b0]
            for sa, sb in ((a.cation, b.anion), (a.anion, b.cation)):
                if sa is None or sb is None:
                    continue
                wC = cs[i][sa] * cs[j][sb]
                root = np.sqrt(wN * wC + eps * eps)
                total += -2.0 * H * (root - eps)
                g = -2.0 * H / (2.0 * root)  # d/d(wN wC)
                gi, gj = grad_c[system.slice(i)], grad_c[system.slice(j)]
                gi[a0] += g * cs[j][b0] * wC
                gj[b0] += g * cs[i][a0] * wC
                gi[sa] += g * wN * cs[j][sb]
                gj[sb] += g * wN * cs[i][sa]
                dEdR = -2.0 * dH * (root - eps)
                grad_r[i] += dEdR * u
                grad_r[j] -= dEdR * u
        return float(total)
