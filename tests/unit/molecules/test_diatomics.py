"""Pair list, ground-state spin rule and R-grid placement of the stage-5 diatomics
(ectem_core.molecules.diatomics). Expected spins are the X states of Huber & Herzberg,
Constants of Diatomic Molecules (1979); r_e and D0 values are theirs (NIST WebBook)."""
from __future__ import annotations

import pytest

from ectem_core.elements import BOHR_ANGSTROM, COVALENT_RADIUS_ANGSTROM, SYMBOLS
from ectem_core.errors import InputError
from ectem_core.molecules.diatomics import (
    canonical_name,
    default_molecules,
    default_pairs,
    experimental_table,
    mo_rule_spin,
    molecular_spin,
    molecule,
    parse_name,
    r_grid,
)


def test_pairs_of_the_issue_element_sets():
    assert default_pairs(["Na", "Cl"]) == ["Na2", "Cl2", "NaCl"]
    assert sorted(default_pairs(["C", "N", "O"])) == sorted(["C2", "N2", "O2", "CN", "CO", "NO"])
    assert default_pairs(["Cu"]) == ["Cu2"] and default_pairs(["Ni"]) == ["Ni2"]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_pair_count_is_n_n_plus_1_over_2(n):
    els = list(SYMBOLS[:n])
    pairs = default_pairs(els, cap=1000)
    assert len(pairs) == n * (n + 1) // 2 == len(set(pairs))
    assert {frozenset(parse_name(p)) for p in pairs} == {frozenset((a, b)) for a in els for b in els}


def test_cap_keeps_homonuclear_first():
    els = ["H", "Li", "C", "N", "O", "F", "Na", "Cl"]          # 36 pairs
    pairs = default_pairs(els)
    assert len(pairs) == 21 and pairs[:8] == [f"{e}2" for e in els]
    assert default_pairs(els, cap=3) == ["H2", "Li2", "C2"]


@pytest.mark.parametrize("a, b, name", [("H", "F", "HF"), ("F", "H", "HF"), ("Li", "H", "LiH"), ("O", "H", "OH"),
                                        ("H", "C", "CH"), ("Cl", "Na", "NaCl"), ("O", "C", "CO"), ("O", "N", "NO"),
                                        ("N", "C", "CN"), ("Br", "K", "KBr"), ("O", "Si", "SiO")])
def test_canonical_names(a, b, name):
    assert canonical_name(a, b) == name


# X states (Huber & Herzberg 1979): 2S of the ground state
@pytest.mark.parametrize("name, two_s", [("H2", 0), ("C2", 0), ("N2", 0), ("O2", 2), ("F2", 0), ("CN", 1), ("CO", 0),
                                         ("NO", 1), ("OH", 1), ("NH", 2), ("CH", 1), ("B2", 2), ("S2", 2), ("SO", 2),
                                         ("Na2", 0), ("Cl2", 0), ("NaCl", 0), ("LiF", 0), ("Si2", 2), ("Al2", 2)])
def test_molecule_spins(name, two_s):
    mol = molecule(name)
    assert mol.spin == two_s
    assert (mol.n_electrons - mol.spin) % 2 == 0


def test_mo_rule_reproduces_every_tabulated_ground_state():
    """The valence-MO rule (used for pairs the table lacks) against every X state in the table."""
    table = experimental_table()
    assert len(table) >= 40
    wrong = [(row.name, row.term, mo_rule_spin(*parse_name(row.name))) for row in table.values()
             if mo_rule_spin(*parse_name(row.name)) != row.two_s]
    assert wrong == []


def test_spin_source_and_rule_outside_the_table():
    assert molecular_spin("N", "O")[1].startswith("X 2Pi")
    # not tabulated: first-row radicals by the rule (LiO X 2Pi, LiN X 3Sigma-, NF-like PF 3Sigma-)
    assert molecular_spin("Li", "O") == (1, "valence-MO rule (no tabulated X state)")
    assert molecular_spin("Li", "N")[0] == 2 and molecular_spin("P", "F")[0] == 2
    two_s, why = molecular_spin("Ni", "O")
    assert two_s % 2 == 0 and "assumed" in why


def test_r_grid_from_experiment_or_covalent_radii():
    nacl = molecule("NaCl")
    assert nacl.re_guess_bohr == pytest.approx(2.36080 / BOHR_ANGSTROM, rel=1e-9)
    lio = molecule("LiO")
    assert lio.re_guess_bohr == pytest.approx((COVALENT_RADIUS_ANGSTROM["Li"] + COVALENT_RADIUS_ANGSTROM["O"])
                                              / BOHR_ANGSTROM, rel=1e-9)
    assert "covalent radii" in lio.re_source
    r = r_grid(lio, 12, 20.0)
    assert r[0] == pytest.approx(0.75 * lio.re_guess_bohr, abs=1e-3) and r[-1] == 20.0


def test_experimental_de_is_d0_plus_zero_point():
    h2 = experimental_table()[frozenset(("H",))]
    # D0(H2) = 4.4781 eV, w_e = 4401.21 cm^-1: D_e = 4.4781 + 0.2728 = 4.751 eV (exp. D_e 4.747 eV)
    assert h2.de_ev == pytest.approx(4.747, abs=0.01)


def test_any_supported_diatomic_by_name_and_clear_errors():
    assert molecule("FeO").symbols == ("Fe", "O") and molecule("KBr").spin == 0
    with pytest.raises(InputError, match="unknown element"):
        molecule("Xe2")
    with pytest.raises(InputError, match="not in the element set"):
        default_molecules(["C", "O"], names=["NO"])


def test_report_shows_the_experimental_row_beside_the_reference(tmp_path):
    from ectem_core.deliver.report.builder import benchmarks_section
    from ectem_core.deliver.report.collect import MoleculeBenchmarks

    row = {"model": "reference", "re_bohr": 4.59, "de_hartree": 0.147, "we_cm1": 360.0, "limit_hartree": 0.0,
           "q_A_at_re": None}
    html = benchmarks_section([MoleculeBenchmarks("NaCl", tmp_path, {"spectroscopic": [row]})], None, ["NaCl"])
    assert "experiment (Huber–Herzberg" in html
    # r_e(NaCl) = 2.36080 Å = 4.46127 bohr (Huber & Herzberg), shown with 6 significant digits
    assert ">4.46127<" in html
