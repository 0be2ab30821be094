"""Orbital-based atomic charges from an AO one-particle density matrix: Mulliken and IAO.

Charges in elementary charges (q_A = Z_A - N_A); both sum to the molecule's charge exactly.
"""
from __future__ import annotations

import numpy as np


def mulliken(mol, dm: np.ndarray) -> np.ndarray:
    """Mulliken charges q_A = Z_A - sum_{mu in A} (D S)_{mu mu} of the spin-summed density
    (the numbers of PySCF's `scf.hf.mulliken_pop`)."""
    pop = np.einsum("ij,ji->i", dm, mol.intor_symmetric("int1e_ovlp"))
    charges = mol.atom_charges().astype(float).copy()
    np.subtract.at(charges, [lab[0] for lab in mol.ao_labels(fmt=False)], pop)
    return charges


def iao(mol, dm: np.ndarray, minao: str = "minao") -> np.ndarray:
    """Charges from populations on symmetrically (Löwdin) orthogonalized intrinsic atomic
    orbitals (Knizia, JCTC 9, 4834 (2013)), built from the natural orbitals of `dm`.

    The IAOs are built from `dm`'s natural orbitals with occupation > 0.5 (exactly the
    occupied orbitals of an RHF/ROHF density). The full density is projected onto the
    orthonormal IAO basis; the population of a correlated (or spin-contaminated UHF) density
    outside the IAO span, `n_lost` from `iao_details`, is restored by scaling the populations
    so the charges sum exactly to the molecule's charge."""
    q, _ = iao_details(mol, dm, minao)
    return q


def iao_details(mol, dm: np.ndarray, minao: str = "minao") -> tuple[np.ndarray, float]:
    from pyscf import lo

    S = mol.intor_symmetric("int1e_ovlp")
    # natural orbitals in the S-metric: S^1/2 dm S^1/2 = U n U^T
    e, v = np.linalg.eigh(S)
    s_half = (v * np.sqrt(e)) @ v.T
    s_mhalf = (v / np.sqrt(e)) @ v.T
    occ, u = np.linalg.eigh(s_half @ dm @ s_half)
    no = s_mhalf @ u
    keep = occ > 0.5  # the "occupied" natural orbitals (all of them for an idempotent HF density)
    c_iao = lo.iao.iao(mol, no[:, keep], minao=minao)
    c_iao = lo.vec_lowdin(c_iao, S)  # orthonormal IAOs, AO coefficients
    sc = S @ c_iao
    dm_iao = sc.T @ dm @ sc  # density in the orthonormal IAO basis
    pop = np.diag(dm_iao)
    n_elec = float(np.einsum("ij,ji->", dm, S))
    n_lost = n_elec - float(pop.sum())
    if abs(n_lost) > 1e-12:
        pop = pop * (n_elec / pop.sum())
    pmol = lo.iao.reference_mol(mol, minao)
    charges = mol.atom_charges().astype(float).copy()
    for (atom, *_), p in zip(pmol.ao_labels(fmt=False), pop):
        charges[atom] -= p
    return charges, n_lost
