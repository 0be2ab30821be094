"""Experimental crystal properties with one source per number (ectem_core/data/crystals_experiment.csv)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

_CSV = Path(__file__).resolve().parents[1] / "data" / "crystals_experiment.csv"
FIELDS = ("a0_angstrom", "B_GPa", "cohesive_energy_eV", "lattice_energy_eV", "melting_K")
SOURCE = {"a0_angstrom": "a0_source", "B_GPa": "B_source", "cohesive_energy_eV": "cohesive_source",
          "lattice_energy_eV": "lattice_source", "melting_K": "melting_source"}


@lru_cache(maxsize=None)
def experimental_crystals() -> dict:
    """{formula: {structure, a0_angstrom, B_GPa, cohesive_energy_eV, lattice_energy_eV, melting_K (None if absent),
    and a `<field>_source` key per number}}."""
    out = {}
    with open(_CSV, newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.lstrip().startswith("#")):
            rec = {"structure": row["structure"]}
            for f in FIELDS:
                rec[f] = float(row[f]) if row[f].strip() else None
                rec[f + "_source"] = row[SOURCE[f]].strip() or None
            out[row["formula"]] = rec
    return out
