"""Production level: ΔCCSD(T)/aug-cc-pVQZ, frozen core, ionization energies and
electron affinities of H, Li, F and the Li 2s->2p excitation vs experiment (NIST ASD;
Rienstra-Kiracofe et al. 2002) within 0.1 eV. About a minute on 2 cores, so it runs in the default suite.
Measured (2026-11-25): H IP 13.606 / EA 0.739; Li IP 5.343 / EA 0.616 / 2p 1.842;
F IP 17.346 / EA 3.379 (3.362 after spin-orbit) eV."""
from __future__ import annotations

import pytest

from ectem_core import elements
from ectem_core.atoms import AtomsSettings, derive_element, raw_record
from ectem_core.atoms.radial import RadialGrid
from ectem_core.atoms.states import default_states
from ectem_core.qm.level import Level
from ectem_core.qm.pyscf_backend import compute_state

EV = elements.HARTREE_EV
# F 2P3/2 lies 0.017 eV below the non-relativistic 2P centroid (NIST fine structure 0.050 eV / 3):
# the computed (centroid) EA is corrected by -0.017 eV before comparing with experiment.
F_SPIN_ORBIT_EV = -0.017


def production_numbers(symbol):
    lv = Level("ccsd(t)", "aug-cc-pvqz", frozen_core=True)
    settings = AtomsSettings(energy_level=lv, density_level=lv.with_(method="hf"), grid=RadialGrid(n=401),
                             n_angular=110)
    raw = {}
    for st in default_states(symbol):
        res = compute_state(st, lv, lv.with_(method="hf"), settings.grid, 110, threads=2)
        raw[st.state_id] = raw_record(res, "x")
    return derive_element(symbol, raw, settings)


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("symbol", ["H", "Li", "F"])
def test_delta_ccsd_t_ip_ea_within_0p1_ev(symbol):
    fin = production_numbers(symbol)
    ip = fin[f"{symbol}0"]["ionization_energy_hartree"] * EV
    ea = fin[f"{symbol}0"]["electron_affinity_hartree"] * EV
    print(f"{symbol}: IP {ip:.4f} eV (exp {elements.experimental_ip_ev(symbol)}), EA {ea:.4f} eV "
          f"(exp {elements.experimental_ea_ev(symbol)})")
    assert abs(ip - elements.experimental_ip_ev(symbol)) < 0.1
    if symbol == "F":
        ea = ea + F_SPIN_ORBIT_EV
    assert abs(ea - elements.experimental_ea_ev(symbol)) < 0.1
    if symbol == "Li":
        exc = fin["Li0_2P"]["excitation_energy_hartree"] * EV
        print(f"Li 2s->2p: {exc:.4f} eV (exp 1.848)")
        assert abs(exc - 1.848) < 0.1
