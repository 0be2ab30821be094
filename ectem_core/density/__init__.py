"""Stage 2 — radial densities: the analytic Slater-shell + tail model (`model`, with its numba
pieces `shells`, `tail`, `kernels` and the public evaluators in `slater`), pair integrals of two
densities (`pair_integrals`), the constrained Aufbau fit (`fit`), fit records (`records`) and
figures (`plots`)."""
from .model import RadialDensity

__all__ = ["RadialDensity"]
