"""Stage 5c: parsimonious tuning of a bundle to QM reference curves (docs/tune.md)."""
