"""Tuning terms (ectem_core.tune.terms) and the neutral-overlap bond term (ectem_core.potential.bond)
on the real small bundle. Expected values from exact relations: F̃(ρ̄) = γ F(β ρ̄) and its chain-rule
derivatives, the bond term's closed form −K Ī f(S/S(R_cov)) on top of the atoms-only energy at fixed
neutral weights, f(1) = 1, and the dissociation limit q = 0, E = Σ E_atoms."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from ectem_core.errors import InputError


@pytest.fixture(scope="module")
def bundle(small_bundle):
    return json.loads(small_bundle.read_text())


def _record(bundle, form):
    return next(s["embedding"] for s in bundle["states"] if s["embedding"].get("form") == form)


@pytest.mark.parametrize("form", ["concordance", "daw_spline"])
def test_scaled_embedding_is_gamma_F_of_beta_rho_exactly(bundle, form):
    from ectem_core.embedding.function import embedding_function
    from ectem_core.tune.terms import scaled_embedding

    rec = _record(bundle, form)
    beta, gamma = 0.37, 1.6
    F, Ft = embedding_function(rec), embedding_function(scaled_embedding(rec, beta, gamma))
    rho = np.geomspace(1e-4, 0.5, 40)
    f, df, d2f = F(beta * rho)
    g, dg, d2g = Ft(rho)
    assert np.allclose(g, gamma * f, rtol=1e-12, atol=1e-15)
    assert np.allclose(dg, gamma * beta * df, rtol=1e-12, atol=1e-15)
    assert np.allclose(d2g, gamma * beta * beta * d2f, rtol=1e-10, atol=1e-13)
    assert scaled_embedding(rec, 1.0, 1.0) == rec
    with pytest.raises(InputError, match="> 0"):
        scaled_embedding(rec, 0.0, 1.0)


def test_tuned_bundle_keeps_the_atoms_only_bundle_and_digest(bundle):
    from ectem_core.potential.bundle import bundle_parameters_digest
    from ectem_core.tune.terms import bond_strengths, parameter_set, tuned_bundle

    original = copy.deepcopy(bundle)
    assert bundle_parameters_digest(bundle) == bundle["parameters_sha256"]
    params = parameter_set(["H", "Li", "F"], ("beta0", "K"))
    values = {"beta0_H": 0.5, "K_H": 0.4, "K_F": 0.9}
    doc = tuned_bundle(bundle, values, params, version="0.2.0", extra={"tuned_on": ["H2 test"]})
    assert bundle == original                                   # the input is not modified
    assert doc["name"] == f"{bundle['name']}-tuned" and doc["version"] == "0.2.0"
    assert doc["provenance"]["atoms_only_parameters_sha256"] == bundle["parameters_sha256"]
    assert doc["parameters_sha256"] == bundle_parameters_digest(doc) != bundle["parameters_sha256"]
    # geometric combining: K_HF = sqrt(K_H K_F); Li has K = 0, so no bond with Li
    assert doc["tuning"]["bond"] == pytest.approx({"H-H": 0.4, "H-F": np.sqrt(0.36), "F-F": 0.9})
    # beta0 scales only the neutral ground state
    by_id = {s["state_id"]: s["embedding"] for s in doc["states"]}
    assert by_id["H0"]["tuned"] == {"beta": 0.5, "gamma": 1.0}
    assert "tuned" not in by_id["H-1"] and "tuned" not in by_id["F0"]
    with pytest.raises(InputError, match="already tuned"):
        tuned_bundle(doc, values, params)
    with pytest.raises(InputError, match="outside its bounds"):
        tuned_bundle(bundle, {"K_H": -0.1}, params)
    with pytest.raises(InputError, match="unknown parameters"):
        tuned_bundle(bundle, {"gamma_H": 1.1}, params)
    pair = parameter_set(["H", "F"], ("K",), combining="pair")
    assert [p.name for p in pair] == ["K_H-H", "K_H-F", "K_F-F"]
    assert bond_strengths({"K_H-F": 0.7, "K_H-H": 0.0}, ["H", "F"]) == {"H-F": 0.7}


def test_parameter_and_settings_errors_name_the_key():
    from ectem_core.tune.settings import settings_from_config
    from ectem_core.tune.terms import parameter_set

    with pytest.raises(InputError, match="tune.parameters"):
        parameter_set(["H"], ("beta", "lambda"))
    with pytest.raises(InputError, match="tune.combining"):
        parameter_set(["H"], ("K",), combining="arithmetic")
    with pytest.raises(InputError, match="tune.prior_sigma.K"):
        parameter_set(["H"], ("K",), {"K": -1})
    with pytest.raises(InputError, match="unknown key tune.sigma"):
        settings_from_config({"tune": {"sigma": 1}})
    with pytest.raises(InputError, match="sigma_energy_eV"):
        settings_from_config({"tune": {"sigma_energy_eV": 0}})
    with pytest.raises(InputError, match="tune.molecules: 'LiF'"):
        settings_from_config({"tune": {"molecules": ["LiF"]}, "molecules": {"names": ["H2"]}})
    assert settings_from_config(None).parameters == ("beta0", "K")


def test_bond_table_matches_the_closed_form(bundle):
    from ectem_core.potential.bond import bond_coulomb_table, covalent_distance, poly_derivatives
    from ectem_core.potential.loader import Potential
    from ectem_core.potential.model import ModelOptions

    pot = Potential(bundle, ModelOptions())
    ka, kb = pot.index["H"], pot.index["F"]
    key = (min(ka, kb), max(ka, kb))
    g = (pot.elements[key[0]].ground, pot.elements[key[1]].ground)
    t = pot.pairs.tables[key][g]
    s_norm = t["S"](covalent_distance("H", "F"))[0]
    energy = 0.3
    table = bond_coulomb_table(t["U"], t["S"], energy, s_norm)
    R = np.linspace(1.0, 12.0, 57)
    s = np.exp(poly_derivatives(t["S"], R)[0]) / s_norm
    direct = t["U"](R)[0] - energy * 2 * s / (1 + s)
    assert np.max(np.abs(table(R)[0] - direct)) < 1e-7
    # the derivative is the table's own, consistent with its values (central differences)
    h = 1e-5
    fd = (table(R + h)[0] - table(R - h)[0]) / (2 * h)
    assert np.max(np.abs(table(R)[1] - fd)) < 1e-6
    # f(1) = 1: at the covalent distance the bond term is exactly −energy
    rc = covalent_distance("H", "F")
    assert table(np.array([rc]))[0][0] - t["U"](np.array([rc]))[0][0] == pytest.approx(-energy, abs=1e-7)
    assert bond_coulomb_table(t["U"], t["S"], 0.0, s_norm) is t["U"]
    with pytest.raises(InputError, match=">= 0"):
        bond_coulomb_table(t["U"], t["S"], -1.0, s_norm)


def test_tuned_energy_is_atoms_only_minus_bond_at_neutral_weights(bundle):
    """At fixed neutral weights (H2 stays neutral by symmetry in the pure model) the tuned energy is
    the atoms-only energy minus K Ī f(s) exactly (β0 = 1: nothing else changes)."""
    from ectem_core.potential.bond import covalent_distance
    from ectem_core.potential.loader import first_ionization
    from ectem_core.tune.curves import model_curve
    from ectem_core.tune.fit import tuned_potential
    from ectem_core.tune.terms import parameter_set

    params = parameter_set(["H", "Li", "F"], ("K",), combining="pair")
    atoms = tuned_potential(bundle, {}, params)
    K = 0.45
    tuned = tuned_potential(bundle, {"K_H-H": K}, params)
    R = np.array([1.2, 1.4, 2.0, 3.0, 5.0])
    e0, q0 = model_curve(atoms, "H", "H", R)
    e1, q1 = model_curve(tuned, "H", "H", R)
    assert np.all(q0 == 0) and np.all(q1 == 0)
    ip = first_ionization(bundle, "H")
    assert ip == pytest.approx(0.5, abs=0.01)        # H: 13.6 eV
    k = atoms.index["H"]
    t = atoms.pairs.tables[k, k][atoms.elements[k].ground, atoms.elements[k].ground]
    s = t["S"](R)[0] / t["S"](covalent_distance("H", "H"))[0]
    # at R where H2's pure-model weights stay on the neutral vertex
    assert np.allclose(e1 - e0, -K * ip * 2 * s / (1 + s), atol=2e-7)


def test_tuned_dissociation_limits_are_exact(bundle):
    from ectem_core.tune.curves import model_curve
    from ectem_core.tune.fit import tuned_potential
    from ectem_core.tune.terms import parameter_set

    params = parameter_set(["H", "Li", "F"], ("beta0", "K"))
    pot = tuned_potential(bundle, {"beta0_H": 0.3, "beta0_F": 0.5, "K_H": 0.5, "K_Li": 0.2, "K_F": 0.6}, params)
    for a, b in (("H", "H"), ("H", "F"), ("Li", "F"), ("Li", "H"), ("F", "F"), ("Li", "Li")):
        e, q = model_curve(pot, a, b, [40.0, 60.0])
        assert np.all(q == 0.0), (a, b, q)
        assert np.all(np.abs(e) < 1e-12), (a, b, e)     # E − Σ E_atoms (hartree)
