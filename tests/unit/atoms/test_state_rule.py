"""The state rule of ectem_core.elements for H-Kr: ground configurations, multiplicities and
terms of atoms and ions (NIST Atomic Spectra Database ground levels), the 3d-block exceptions,
and frozen-core sizes per row."""
from __future__ import annotations

import pytest

from ectem_core.atoms.states import default_states, irrep_occupations, make_state
from ectem_core.elements import (
    SYMBOLS,
    atomic_number,
    experimental_ea_ev,
    experimental_ip_ev,
    ground_configuration,
    multiplicity,
    n_core_orbitals,
    term_symbol,
)
from ectem_core.errors import InputError

# NIST ASD ground terms of the neutral atoms H-Kr
NIST_TERMS = ("2S 1S 2S 1S 2P 3P 4S 3P 2P 1S 2S 1S 2P 3P 4S 3P 2P 1S 2S 1S 2D 3F 4F 7S 6S 5D 4F 3F 2S 1S "
              "2P 3P 4S 3P 2P 1S").split()


def test_neutral_ground_terms_match_nist():
    assert len(SYMBOLS) == 36 and SYMBOLS[-1] == "Kr"
    assert [term_symbol(z, z) for z in range(1, 37)] == NIST_TERMS


@pytest.mark.parametrize("symbol, charge, tail, term", [
    ("Ni", 0, "3d8 4s2", "3F"), ("Ni", 1, "3p6 3d9", "2D"), ("Ni", 2, "3p6 3d8", "3F"),
    ("Cu", 0, "3d10 4s1", "2S"), ("Cu", 1, "3p6 3d10", "1S"), ("Cu", 2, "3p6 3d9", "2D"),
    ("Cr", 0, "3d5 4s1", "7S"), ("Fe", 1, "3d6 4s1", "6D"), ("V", 1, "3p6 3d4", "5D"), ("Co", 1, "3p6 3d8", "3F"),
    ("Ca", -1, "4s2 4p1", "2P"), ("K", 1, "3s2 3p6", "1S"), ("Ga", 1, "3d10 4s2", "1S"), ("Br", -1, "4s2 4p6", "1S"),
    ("Al", 0, "3s2 3p1", "2P"), ("Zn", 1, "3d10 4s1", "2S"),
])
def test_ion_configurations(symbol, charge, tail, term):
    z = atomic_number(symbol)
    assert ground_configuration(z - charge, z).endswith(tail)
    assert term_symbol(z - charge, z) == term
    conf = ground_configuration(z - charge, z)
    assert sum(int(tok[2:]) for tok in conf.split()) == z - charge
    st = make_state(symbol, charge)
    assert st.multiplicity == multiplicity(z - charge, z) == int(term[0])


def test_isoelectronic_default_is_unchanged_for_light_atoms():
    # z omitted: the isoelectronic neutral (what H-Ar always used); F- = Ne, Li+ = He
    assert ground_configuration(10) == "1s2 2s2 2p6" and multiplicity(2) == 1 and multiplicity(9) == 2
    assert term_symbol(10, 9) == "1S" and term_symbol(2, 3) == "1S"


def test_frozen_core_per_row():
    assert [n_core_orbitals(s) for s in ("H", "Li", "F", "Na", "Cl", "K", "Ca", "Sc", "Ni", "Cu", "Ga", "Kr")] == \
        [0, 1, 1, 5, 5, 5, 5, 9, 9, 9, 14, 14]
    for s in SYMBOLS:
        assert 2 * n_core_orbitals(s) < atomic_number(s)


def test_pinned_d_occupations_fix_the_4s_shell():
    # Ni 3d8 4s2: beta electrons fill both valence Ag orbitals of 3d and the 4s (Ag first), so the
    # SCF cannot move the 4s beta electron into 3d (which would be 3d9 4s1 with the same spin)
    occ = irrep_occupations(ground_configuration(28, 28))
    assert occ["Ag"] == (6, 6)                 # 1s 2s 3s 4s + 3d(z2, x2-y2) in both spins
    assert sum(a for a, _ in occ.values()) - sum(b for _, b in occ.values()) == 2


def test_reference_data_cover_h_to_kr():
    assert experimental_ip_ev("Ni") == pytest.approx(7.639878) and experimental_ip_ev("K") == pytest.approx(4.34066373)
    assert experimental_ea_ev("Cu") == pytest.approx(1.23578) and experimental_ea_ev("Zn") is None
    assert experimental_ea_ev("Mn") is None and experimental_ea_ev("Kr") is None


def test_default_states_of_a_3d_atom_and_limits():
    ids = [s.state_id for s in default_states("Ni")]
    assert ids == ["Ni0", "Ni+1", "Ni-1", "Ni+2"]
    with pytest.raises(InputError, match="charges -1 to \\+3"):
        multiplicity(28 - 5, 28)
    with pytest.raises(InputError, match="unknown element"):
        atomic_number("Rb")


@pytest.mark.parametrize("symbol, d_count", [("Ni", 8), ("Mn", 5), ("Fe", 6)])
def test_scf_holds_the_nist_configuration(symbol, d_count):
    """Real PySCF UHF/cc-pVDZ: a free SCF lands Ni in 3d9 4s1 and Mn, Fe in 3d(n+1) 4s1; the irrep
    pinning (Ni) and the 4s swap + maximum-overlap rung (Mn, Fe) hold the NIST configuration, which
    the Mulliken d count (an independent measure) confirms, at the state's multiplicity."""
    from ectem_core.qm.level import Level
    from ectem_core.qm.pyscf_backend import _scf_density, configuration_mismatch, l_populations, run_scf

    state = make_state(symbol, 0)
    mol, mf, attempt, _ = run_scf(state, Level(method="hf", basis="cc-pvdz"))
    pops = l_populations(mol, _scf_density(mf))
    assert pops["d"] == pytest.approx(d_count, abs=0.05)
    assert configuration_mismatch(state, pops) is None
    s = state.spin / 2
    assert mf.spin_square()[0] == pytest.approx(s * (s + 1), abs=0.05)
    assert ("mom_4s_swap" in attempt) == (symbol in ("Mn", "Fe"))
