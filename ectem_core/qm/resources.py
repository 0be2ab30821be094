"""Cluster resource estimates (memory in MB, runtime in minutes) for one QM job, scaled by
basis-set size and method; used by the Snakemake rules and the SLURM profile."""
from __future__ import annotations


def _basis_factor(basis: str) -> float:
    b = basis.lower()
    for tag, f in (("5z", 16.0), ("qz", 6.0), ("tz", 2.0), ("dz", 1.0)):
        if tag in b:
            return f * (1.5 if ("pcv" in b or "pwcv" in b or b.startswith("unc-")) else 1.0)
    return 1.0 if not b.startswith("et:") else 4.0


def qm_resources(state_id: str, settings) -> dict:
    """{'mem_mb', 'runtime'} for the atom_state job of `state_id`."""
    lv = settings.energy_level
    f = _basis_factor(lv.basis)
    m = {"hf": 1.0, "ccsd": 3.0, "ccsd(t)": 4.0}.get(lv.method, 1.5)
    return {"mem_mb": int(1000 + 500 * f * m), "runtime": int(max(10, 5 * f * m))}
