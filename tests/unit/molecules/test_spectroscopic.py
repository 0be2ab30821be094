"""Spectroscopic constants from a curve: a Morse potential has closed-form Re, De and ωe."""
import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.molecules.spectroscopic import HARTREE_TO_CM1, constants, reduced_mass_me


def morse(r, de, a, re):
    return de * (1 - np.exp(-a * (r - re))) ** 2 - de


def test_morse_constants_are_recovered():
    de, a, re = 0.2, 0.8, 3.0                       # hartree, 1/bohr, bohr
    r = np.linspace(2.0, 20.0, 400)
    c = constants(r, morse(r, de, a, re), "Li", "F")
    we_exact = a * np.sqrt(2 * de / reduced_mass_me("Li", "F")) * HARTREE_TO_CM1   # harmonic frequency
    assert abs(c["re_bohr"] - re) < 1e-5
    assert abs(c["de_hartree"] - de) < 1e-7
    assert abs(c["we_cm1"] / we_exact - 1) < 1e-3
    assert abs(c["limit_hartree"] - morse(20.0, de, a, re)) < 1e-15


def test_repulsive_curve_has_no_bound_state_and_short_curve_is_refused():
    r = np.linspace(1.0, 10.0, 30)
    c = constants(r, np.exp(-r), "H", "F")
    assert c["de_hartree"] == 0.0 and np.isnan(c["re_bohr"])
    with pytest.raises(InputError):
        constants([1.0, 2.0, 3.0], [0.0, -1.0, 0.0], "H", "H")
