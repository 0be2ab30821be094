"""Load an ECT-EAM potential from a parameter bundle: element ensembles (ΔE, embedding
functions) and tabulated state-pair functions (overlap S, Coulomb U, point densities)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .bundle import load_bundle
from .model import ECTModel, ElementStates, ModelOptions


class TablePairs:
    """PairProvider on pair_tables: S, U and ρ(R) per state pair, plus the normalized overlap
    s(R) = S_00(R)/√(S_aa(0) S_bb(0)) of the two neutral ground states (resonance variant)."""

    def __init__(self, elements: list[ElementStates], state_dicts: list[list[dict]]):
        from ..density.pair_integrals import overlap
        from .pair_tables import build_pair_tables

        self.el = elements
        self.tables = {}
        self.self_overlap = []
        for ea in range(len(elements)):
            g = state_dicts[ea][elements[ea].ground]
            self.self_overlap.append(float(overlap(g, g, 0.0)))
            for eb in range(ea, len(elements)):
                self.tables[ea, eb] = build_pair_tables(state_dicts[ea], state_dicts[eb])

    def evaluate(self, ea: int, eb: int, R: float) -> dict:
        swap = ea > eb
        key = (eb, ea) if swap else (ea, eb)
        tabs = self.tables[key]
        na, nb = len(self.el[key[0]].state_ids), len(self.el[key[1]].state_ids)
        S, dS, U, dU = (np.empty((na, nb)) for _ in range(4))
        rho_a, drho_a = np.empty(na), np.empty(na)
        rho_b, drho_b = np.empty(nb), np.empty(nb)
        for (i, j), t in tabs.items():
            S[i, j], dS[i, j] = t["S"](R)
            U[i, j], dU[i, j] = t["U"](R)
            if j == 0:
                rho_a[i], drho_a[i] = t["rho_a_at_R"](R)
            if i == 0:
                rho_b[j], drho_b[j] = t["rho_b_at_R"](R)
        g0, g1 = self.el[key[0]].ground, self.el[key[1]].ground
        norm = np.sqrt(self.self_overlap[key[0]] * self.self_overlap[key[1]])
        out = {"S": S, "dS": dS, "U": U, "dU": dU, "rho_a": rho_a, "drho_a": drho_a, "rho_b": rho_b,
               "drho_b": drho_b, "s_neutral": S[g0, g1] / norm, "ds_neutral": dS[g0, g1] / norm}
        if swap:
            out = {"S": S.T, "dS": dS.T, "U": U.T, "dU": dU.T, "rho_a": rho_b, "drho_a": drho_b,
                   "rho_b": rho_a, "drho_b": drho_a, "s_neutral": out["s_neutral"], "ds_neutral": out["ds_neutral"]}
        return out


class Potential(ECTModel):
    """ECTModel built from a bundle; knows the elements' ground-state energies."""

    def __init__(self, bundle: dict, options: ModelOptions):
        from ..embedding.function import embedding_function

        by_element: dict[str, list[dict]] = {}
        for st in bundle["states"]:
            if st["n_electrons"] == 0 and not options.proton:
                continue  # bare nucleus (H+) off unless asked for: docs/model.md section 4
            by_element.setdefault(st["symbol"], []).append(st)
        elements, dicts = [], []
        self.ground_energies = {}
        for sym, info in bundle["elements"].items():
            states = by_element.get(sym, [])
            ids = [s["state_id"] for s in states]
            if info["ground_state"] not in ids:
                raise InputError(f"bundle {bundle.get('name')}: ground state of {sym} is missing")
            charge = np.array([s["charge"] for s in states])
            labels = [s.get("label", "") for s in states]

            def find(q):
                hits = [k for k, (c, lab) in enumerate(zip(charge, labels)) if c == q and not lab]
                return hits[0] if hits else None

            elements.append(ElementStates(
                sym, info["Z"], ids, charge, np.array([s["n_electrons"] for s in states]),
                np.array([s["delta_e_hartree"] for s in states], dtype=float),
                [embedding_function(s["embedding"]) for s in states], ids.index(info["ground_state"]),
                cation=find(1), anion=find(-1)))
            dicts.append([{"Z": s["Z"], "n_electrons": s["n_electrons"], **s["density"]} for s in states])
            self.ground_energies[sym] = float(info["energy_ground_hartree"])
        pairs = _shared_tables(elements, dicts)
        self.tuning = bundle.get("tuning") or None
        if self.tuning and self.tuning.get("bond"):
            from .bond import bonded_pairs

            pairs = bonded_pairs(pairs, elements, _bond_indices(self.tuning["bond"], list(bundle["elements"])),
                                 [first_ionization(bundle, e.symbol) for e in elements])
        super().__init__(elements, pairs, options)
        self.bundle_name = bundle.get("name")

    def ground_energy(self, symbol: str) -> float:
        return self.ground_energies[symbol]


def first_ionization(bundle: dict, symbol: str) -> float | None:
    """IP (hartree) of an element: the ionization energy its ground-state record carries (the
    cation's ΔE, also when the cation is not in the ensemble, e.g. the bare proton)."""
    ground = bundle["elements"][symbol]["ground_state"]
    ip = next(st.get("ionization_energy_hartree") for st in bundle["states"] if st["state_id"] == ground)
    return None if ip is None else float(ip)


def _bond_indices(bond: dict, symbols: list[str]) -> dict:
    """{"A-B": K} of a tuned bundle → {(ka, kb): K} with ka <= kb element indices."""
    out = {}
    for key, K in bond.items():
        parts = str(key).split("-")
        if len(parts) != 2 or not all(p in symbols for p in parts):
            raise InputError(f"bundle tuning.bond: pair {key!r} is not two of the bundle's elements ({', '.join(symbols)})")
        if not (isinstance(K, (int, float)) and K >= 0):
            raise InputError(f"bundle tuning.bond.{key} = {K!r}: a bond strength is a number >= 0")
        ka, kb = sorted(symbols.index(p) for p in parts)
        out[ka, kb] = float(K)
    return out


_CACHE: dict = {}
_TABLES: dict = {}


def _shared_tables(elements, dicts) -> TablePairs:
    """Pair tables depend only on the states' densities, not on the variant or background:
    one TablePairs per set of state densities per process (building them takes ~10–30 s), and
    a disk cache so that other processes (pipeline jobs, test modules) load them in
    milliseconds. Cache key: the densities, the element layout and the source of
    pair_tables.py; location: $ECTEM_CACHE_DIR or the user's cache directory."""
    from ..io import canonical_hash

    key = canonical_hash([[e.symbol, e.state_ids] for e in elements] + [dicts] + [_tables_code_hash()])
    if key not in _TABLES:
        cached = _load_cached_tables(key)
        if cached is not None:
            tp = TablePairs.__new__(TablePairs)
            tp.el = elements
            tp.tables, tp.self_overlap = cached
        else:
            tp = TablePairs(elements, dicts)
            _store_cached_tables(key, tp)
        _TABLES[key] = tp
    return _TABLES[key]


def _tables_code_hash() -> str:
    from ..io import file_sha256
    from . import pair_tables

    return file_sha256(pair_tables.__file__)


def _cache_dir() -> Path:
    import os

    from platformdirs import user_cache_dir

    return Path(os.environ.get("ECTEM_CACHE_DIR") or user_cache_dir("ectem")) / "pair_tables"


def _load_cached_tables(key: str):
    import pickle

    path = _cache_dir() / f"{key}.pkl"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        return None   # absent or unreadable: rebuild (and overwrite)


def _store_cached_tables(key: str, tp: TablePairs) -> None:
    import pickle

    from ..io import write_bytes

    try:
        write_bytes(_cache_dir() / f"{key}.pkl", pickle.dumps((tp.tables, tp.self_overlap), protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass      # a read-only cache only costs time


def load_potential(bundle, variant: str = "pure", background: str = "overlap", proton: bool = False,
                   eta: float = 0.05) -> Potential:
    """A Potential from a bundle path, a bundle dict or `name@version` from the local store."""
    options = ModelOptions(variant=variant, background=background, proton=proton, eta=eta)
    if isinstance(bundle, dict):
        return Potential(bundle, options)
    path = Path(str(bundle))
    if not path.exists() and "@" in str(bundle):
        try:
            from ..deliver.store import resolve
        except ImportError:
            raise InputError(f"bundle {bundle!r}: no bundle store in this version; pass a bundle file path") from None
        path = resolve(str(bundle))
    key = (str(path.resolve()), path.stat().st_mtime if path.exists() else None, variant, background, proton, eta)
    if key not in _CACHE:
        _CACHE[key] = Potential(load_bundle(path), options)
    return _CACHE[key]
