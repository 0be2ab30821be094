"""The tunable parameters of a bundle and how a set of values turns an atoms-only bundle into
a tuned one (docs/model.md section 5, docs/tune.md).

Per element A (at most three, each a physical knob of the atoms-only model):
  beta_A   background scale: every state of A embeds in β_A ρ̄ instead of ρ̄ (the overlap-
           averaged background mis-estimates the density an atom feels inside a bond);
           exact on the packed functions (Baskes ρ̄₀ → ρ̄₀/β; table t₀ → t₀ − ln β, h → β h).
  gamma_A  embedding energy scale: F → γ_A F (Baskes A·E_c → γ A·E_c; table h → γ h).
  K_A      bond strength of A (dimensionless, ≥ 0): pair strength K_AB = √(K_A K_B) of the
           neutral-overlap bond term of `potential.bond` (a combining rule, so a molecule left
           out of the fit is still predicted).
Atoms-only values (the centres of the priors): β = γ = 1, K = 0. Priors are Gaussian in ln β,
ln γ and in K; bounds are physical (β, γ in [1/3, 3], K in [0, 6]).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from ..errors import InputError

KINDS = ("beta", "beta0", "gamma", "K")
SCALES = ("beta", "beta0", "gamma")
CENTRE = {"beta": 1.0, "beta0": 1.0, "gamma": 1.0, "K": 0.0}
BOUNDS = {"beta": (0.1, 3.0), "beta0": (0.1, 3.0), "gamma": (1.0 / 3.0, 3.0), "K": (0.0, 6.0)}
DEFAULT_SIGMA = {"beta": 0.5, "beta0": 0.5, "gamma": 0.3, "K": 1.5}   # prior widths: ln β, ln γ, K
MEANING = {"beta": "background scale β (ρ̄ → β ρ̄)",
           "beta0": "background scale β₀ of the neutral ground state only", "gamma": "embedding energy scale γ (F → γ F)",
           "K": "bond strength K (E_bond = −√(K_A K_B) Ī s(R) c_A0 c_B0)"}


@dataclass(frozen=True)
class Parameter:
    """One tunable parameter: kind (beta | gamma | K), element, prior width (in ln for
    beta/gamma), bounds."""

    kind: str
    element: str
    sigma: float

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.element}"

    @property
    def centre(self) -> float:
        return CENTRE[self.kind]

    @property
    def bounds(self) -> tuple[float, float]:
        return BOUNDS[self.kind]

    def prior_residual(self, value: float) -> float:
        """(x − centre)/σ with x = ln(value) for the scales, the value itself for K."""
        if self.kind == "K":
            return (value - self.centre) / self.sigma
        return math.log(value / self.centre) / self.sigma


COMBINING = ("geometric", "pair")


def parameter_set(elements, kinds=("beta", "K"), sigma: dict | None = None,
                  combining: str = "geometric") -> list[Parameter]:
    """The parameters of `kinds` for every element, in element order then kind order; with
    combining "pair" the bond strength K is one parameter per element pair ("K_A-B", after the
    per-element ones) instead of one per element combined as √(K_A K_B)."""
    if combining not in COMBINING:
        raise InputError(f"tune.combining {combining!r}: use one of {', '.join(COMBINING)}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InputError(f"tune.parameters {bad}: use some of {', '.join(KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise InputError(f"tune.parameters {list(kinds)}: a kind is listed twice")
    widths = {**DEFAULT_SIGMA, **(sigma or {})}
    for k, v in widths.items():
        if k not in KINDS or not (isinstance(v, (int, float)) and v > 0):
            raise InputError(f"tune.prior_sigma.{k} = {v!r}: give a positive number for one of {', '.join(KINDS)}")
    per_element = [k for k in kinds if not (k == "K" and combining == "pair")]
    out = [Parameter(k, el, float(widths[k])) for el in elements for k in per_element]
    if "K" in kinds and combining == "pair":
        out += [Parameter("K", f"{a}-{b}", float(widths["K"])) for i, a in enumerate(elements) for b in elements[i:]]
    return out


def atoms_only_values(params) -> dict:
    return {p.name: p.centre for p in params}


def bond_strengths(values: dict, elements) -> dict:
    """{"A-B": K_AB} for every element pair with K_AB > 0 (A before B in `elements` order): the
    pair's own value "K_A-B" if tuned, else √(K_A K_B)."""
    out = {}
    for i, a in enumerate(elements):
        for b in elements[i:]:
            if f"K_{a}-{b}" in values:
                k = max(float(values[f"K_{a}-{b}"]), 0.0)
            else:
                k = math.sqrt(max(values.get(f"K_{a}", 0.0), 0.0) * max(values.get(f"K_{b}", 0.0), 0.0))
            if k > 0.0:
                out[f"{a}-{b}"] = k
    return out


def scaled_embedding(record: dict, beta: float, gamma: float) -> dict:
    """The embedding record of F̃(ρ̄) = γ F(β ρ̄) (exact on every packed form)."""
    if not (beta > 0 and gamma > 0):
        raise InputError(f"embedding scales must be > 0 (got beta {beta}, gamma {gamma})")
    rec = copy.deepcopy(record)
    form = rec.get("form")
    if beta == 1.0 and gamma == 1.0 or form == "zero":
        return rec
    if form == "concordance":
        rec["A_Ec_hartree"] = gamma * float(record["A_Ec_hartree"])
        rec["rho0_bar"] = float(record["rho0_bar"]) / beta
    elif form == "daw_spline":
        tb = rec["table"]
        f = gamma * beta
        tb["t0"] = float(record["table"]["t0"]) - math.log(beta)
        for key in ("h", "h_t", "h_tt"):
            tb[key] = [f * float(v) for v in record["table"][key]]
    else:
        raise InputError(f"embedding record {record.get('state_id')}: cannot scale form {form!r}")
    rec["tuned"] = {"beta": float(beta), "gamma": float(gamma)}
    return rec


def tuned_bundle(bundle: dict, values: dict, params, name: str | None = None, version: str | None = None,
                 extra: dict | None = None) -> dict:
    """A tuned copy of an atoms-only bundle: scaled embedding records and the `tuning` section
    (parameters, bond strengths, rule) that the loader reads; parameters_sha256 recomputed over
    the body including `tuning`. `extra` goes into the bundle's provenance (references, fit)."""
    from ..potential.bundle import bundle_parameters_digest, check_version

    if bundle.get("tuning"):
        raise InputError(f"bundle {bundle.get('name')} is already tuned: tune the atoms-only bundle")
    known = {p.name for p in params}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"tuned values for unknown parameters {unknown}")
    for p in params:
        v = values.get(p.name, p.centre)
        lo, hi = p.bounds
        if not (lo - 1e-12 <= v <= hi + 1e-12):
            raise InputError(f"{p.name} = {v} is outside its bounds [{lo}, {hi}]")
    elements = list(bundle["elements"])
    doc = copy.deepcopy(bundle)
    for st in doc["states"]:
        sym = st["symbol"]
        beta = values.get(f"beta_{sym}", 1.0)
        if st["charge"] == 0 and not st.get("label"):
            beta *= values.get(f"beta0_{sym}", 1.0)
        st["embedding"] = scaled_embedding(st["embedding"], beta, values.get(f"gamma_{sym}", 1.0))
    pair = any(p.kind == "K" and "-" in p.element for p in params)
    rule = "K_AB per pair" if pair else "K_AB = sqrt(K_A K_B)"
    doc["tuning"] = {"rule": f"{rule}; E_bond = -K_AB (IP_A + IP_B)/2 f(s_AB(R)) c_A0 c_B0, f(s) = 2s/(1+s), "
                             "s_AB = S_00(R)/S_00(R_cov)",
                     "parameters": {p.name: float(values.get(p.name, p.centre)) for p in params},
                     "bond": bond_strengths(values, elements)}
    doc["name"] = name or f"{bundle['name']}-tuned"
    if version is not None:
        doc["version"] = check_version(version, "tune.version")
    prov = dict(doc.get("provenance") or {})
    prov["atoms_only_parameters_sha256"] = bundle.get("parameters_sha256")
    prov.update(extra or {})
    doc["provenance"] = prov
    doc["parameters_sha256"] = bundle_parameters_digest(doc)
    return doc
