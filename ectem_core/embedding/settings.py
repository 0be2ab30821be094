"""Stage-3 options (config section `embedding:`): priors, window, tables (docs/embedding.md)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import InputError
from .daw import LAMBDA0, XC_CHOICES

# ------------------------------------------------------------------------------ settings

@dataclass(frozen=True)
class EmbeddingSettings:
    """Stage-3 options (config section `embedding:`, docs/embedding.md)."""

    xc: str = "lda,pw"
    lambda0: float = LAMBDA0
    sigma_a: float = 0.1
    sigma_lambda: float = 0.03
    sigma_ln_aec: float = 0.7            # log-normal prior width on A·E_c (factor 2)
    sigma_rel: float = 0.05              # data scale: relative misfit (F_D − F_B)/max(|F_D⁰|, |F_min⁰|)
    parity_tolerance: float = 0.2        # fallback when the parity measure exceeds this
    parity_measure: str = "relative"     # 'relative': rms of (F_D − F_B)/max(|F_D⁰|, |F_min⁰|);
                                         # 'well_depth': rms(F_D − F_B)/|F_min⁰|
    window_factors: tuple = (0.8, 1.5)   # × typical bond length
    bond_lengths_bohr: dict = field(default_factory=dict)   # {"Li-F": 2.955, ...} overrides
    wall_weight: float = 4.0             # weight at the short-distance (wall) end / weight at the long end
    n_window: int = 41
    min_depth_hartree: float = 3.7e-5    # a nominal Daw minimum shallower than 1 meV counts as none
    rho_table_min: float = 1e-10
    rho_table_max: float = 1e3
    n_table: int = 241

    def __post_init__(self):
        if self.parity_measure not in ("relative", "well_depth"):
            raise InputError(f"embedding.parity_measure = {self.parity_measure!r}: use 'relative' or 'well_depth'")
        if self.xc not in XC_CHOICES:
            raise InputError(f"embedding.xc = {self.xc!r}: use one of {', '.join(XC_CHOICES)}")
        lo, hi = self.window_factors
        if not 0 < lo < hi:
            raise InputError(f"embedding.window_factors = {list(self.window_factors)}: need 0 < low < high")
        for name in ("sigma_a", "sigma_ln_aec", "sigma_rel", "parity_tolerance", "wall_weight",
                     "rho_table_min", "lambda0"):
            if not getattr(self, name) > 0:
                raise InputError(f"embedding.{name} must be > 0")
        if not self.sigma_lambda >= 0:
            raise InputError("embedding.sigma_lambda must be >= 0 (0: λ fixed at lambda0)")
        if self.min_depth_hartree < 0:
            raise InputError("embedding.min_depth_hartree must be >= 0")
        if not self.rho_table_max > self.rho_table_min:
            raise InputError("embedding.rho_table_max must exceed rho_table_min")
        if self.n_window < 5 or self.n_table < 20:
            raise InputError("embedding.n_window >= 5 and embedding.n_table >= 20 required")


def settings_from_config(config: dict | None) -> EmbeddingSettings:
    """EmbeddingSettings from the `embedding` section of a run config (defaults if absent)."""
    from ..config import settings_section

    return settings_section(EmbeddingSettings, "embedding", (config or {}).get("embedding"),
                            {"window_factors": tuple, "bond_lengths_bohr": dict})


def settings_dict(settings: EmbeddingSettings) -> dict:
    d = asdict(settings)
    d["window_factors"] = list(d["window_factors"])
    return d


