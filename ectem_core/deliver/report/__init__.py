"""The validation report of an element set (HTML + PDF): verdict, provenance, states, density
fits, embedding concordance, the potential's diatomic curves and the molecular benchmarks."""
from .builder import build_report, render_report
from .curves import ScanGrid

__all__ = ["build_report", "render_report", "ScanGrid"]
