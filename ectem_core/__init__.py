"""ectem_core: the science library behind the ectem workflow (no Snakemake inside).

Atomic units throughout (hartree, bohr, electrons) unless a name says otherwise.
"""

__version__ = "0.1.0"
SCHEMA_VERSION = 1
