"""Crystal-stage options (config section `crystals:`), with one set of defaults.

enabled: run the stage (default true; no rows when the set has no compound or metal);
compounds / elements: 1:1 compounds and elements to benchmark (default `benchmark.default_crystals`:
alkali/alkaline-earth + H/halogen/chalcogen compounds of the set, and its metals);
binary_structures / elemental_structures; models (ectem, eam, qeq); variant of the ECT-EAM rows;
slab: the rock-salt (100) surface of every rock-salt compound; md: NVE of a 64-atom rock-salt cell at
300 K and at 0.9 of the experimental melting point (1000 K where none is tabulated) and one
dissociating molecule per compound; md_steps, md_dt_fs."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .energy import MODELS
from .structures import BINARY, ELEMENTAL


@dataclass(frozen=True)
class CrystalSettings:
    enabled: bool = True
    compounds: tuple | None = None
    elements: tuple | None = None
    binary_structures: tuple = BINARY
    elemental_structures: tuple = ELEMENTAL
    models: tuple = MODELS
    variant: str = "pure"
    slab: bool = True
    md: bool = True
    md_steps: int = 300
    md_dt_fs: float = 1.0

    def resolved(self, elements) -> tuple[list, list]:
        """(compounds, elements) with the defaults of the element set filled in."""
        from .benchmark import default_crystals

        d = default_crystals(elements)
        return (list(self.compounds) if self.compounds is not None else d["compounds"],
                list(self.elements) if self.elements is not None else d["elements"])


def settings_from_config(config: dict | None) -> CrystalSettings:
    """CrystalSettings from config['crystals']; InputError naming an unknown key, structure or model."""
    from ..config import settings_section
    from ..potential.model import VARIANTS

    sec = dict((config or {}).get("crystals") or {})
    tup = {k: tuple for k in ("compounds", "elements", "binary_structures", "elemental_structures", "models")}
    s = settings_section(CrystalSettings, "crystals", sec, tup)
    for key, allowed in (("binary_structures", BINARY), ("elemental_structures", ELEMENTAL), ("models", MODELS)):
        bad = [x for x in getattr(s, key) if x not in allowed]
        if bad:
            raise InputError(f"crystals.{key}: {bad[0]!r} is not allowed (use {', '.join(allowed)})")
    if s.variant not in VARIANTS:
        raise InputError(f"crystals.variant: {s.variant!r} is not a variant (use {', '.join(VARIANTS)})")
    if s.md_steps < 2 or s.md_dt_fs <= 0:
        raise InputError(f"crystals: md_steps must be >= 2 and md_dt_fs > 0 (got {s.md_steps}, {s.md_dt_fs})")
    if config and "elements" in config:
        from .benchmark import split_formula

        compounds, elements = s.resolved(config["elements"])
        for f in compounds + elements:
            try:
                split_formula(f, config["elements"])
            except InputError as exc:
                raise InputError(f"crystals: {exc}") from None
    return s
