"""Model options of a run (config section `potential:`) with their one set of defaults: the
variants compared in benchmarks and the report, the background density, the bare proton and
the resonance coupling η (hartree). Defaults come from `model.ModelOptions`."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .model import VARIANTS, ModelOptions

_DEFAULT = ModelOptions()


@dataclass(frozen=True)
class PotentialSettings:
    variants: tuple = VARIANTS
    background: str = _DEFAULT.background
    proton: bool = _DEFAULT.proton
    eta: float = _DEFAULT.eta

    def options(self) -> dict:
        """Keyword arguments of `load_potential` besides the variant."""
        return {"background": self.background, "proton": self.proton, "eta": self.eta}


def settings_from_config(config: dict | None) -> PotentialSettings:
    """PotentialSettings from config['potential']; InputError naming an unknown variant or key."""
    from ..config import settings_section

    sec = dict((config or {}).get("potential") or {})
    unknown = [v for v in sec.get("variants", []) if v not in VARIANTS]
    if unknown:
        raise InputError(f"config potential.variants: {unknown[0]!r} is not a variant of this ectem "
                         f"(use {', '.join(VARIANTS)})")
    settings = settings_section(PotentialSettings, "potential", sec, {"variants": tuple, "proton": bool})
    ModelOptions(background=settings.background)   # checks the background name
    return settings
