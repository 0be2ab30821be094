"""Held-out cluster references (ectem_core.molecules.clusters): the registry's geometries reproduce
their stated bond lengths and angles, the names are checked, and a real PySCF cluster energy gives
the published H + H2 barrier."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.molecules import clusters as C

A = C.BOHR_ANGSTROM


def _angle(p, centre, q) -> float:
    u, v = p - centre, q - centre
    return math.degrees(math.acos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)))


@pytest.mark.parametrize("name", ["Li2F2", "Li2H2", "Na2Cl2"])
def test_rhombus_has_four_equal_sides_and_the_stated_angle(name):
    c = C.CLUSTERS[name]
    x = C.cluster_positions(c)
    d, ang = c.params
    m1, m2, x1, x2 = x
    for a, b in ((m1, x1), (m1, x2), (m2, x1), (m2, x2)):
        assert np.linalg.norm(a - b) * A == pytest.approx(d, rel=1e-12)
    assert _angle(x1, m1, x2) == pytest.approx(ang, abs=1e-10)
    # a planar rhombus: the two angles at M and X add up to 180°
    assert _angle(m1, x1, m2) + ang == pytest.approx(180.0, abs=1e-10)


def test_molecular_geometries_reproduce_their_sources():
    h3 = C.cluster_positions(C.CLUSTERS["H3_linear"])
    assert np.linalg.norm(h3[1] - h3[0]) == pytest.approx(1.757, rel=1e-12)
    assert np.linalg.norm(h3[2] - h3[0]) == pytest.approx(2 * 1.757, rel=1e-12)
    f1, h1, f2, h2 = C.cluster_positions(C.CLUSTERS["HF_dimer"])
    assert np.linalg.norm(f2 - f1) * A == pytest.approx(2.73, rel=1e-12)
    assert np.linalg.norm(h1 - f1) * A == pytest.approx(0.9208, rel=1e-12)
    assert np.linalg.norm(h2 - f2) * A == pytest.approx(0.9208, rel=1e-12)
    assert _angle(h1, f1, f2) == pytest.approx(7.0, abs=1e-10)
    assert _angle(h2, f2, f1) == pytest.approx(111.0, abs=1e-10)
    o, ha, hb = C.cluster_positions(C.CLUSTERS["H2O"])
    assert np.linalg.norm(ha - o) * A == pytest.approx(0.9578, rel=1e-12)
    assert _angle(ha, o, hb) == pytest.approx(104.48, abs=1e-10)
    n, *hs = C.cluster_positions(C.CLUSTERS["NH3"])
    for i in range(3):
        assert np.linalg.norm(hs[i] - n) * A == pytest.approx(1.0116, rel=1e-12)
        assert _angle(hs[i], n, hs[(i + 1) % 3]) == pytest.approx(106.7, abs=1e-10)


def test_default_clusters_and_name_checks():
    from ectem_core.config import schema
    from ectem_core.tune.settings import TuneSettings, cluster_names

    assert C.default_clusters(["H", "Li", "F"]) == ["H3_linear", "HF_dimer", "Li2F2", "Li2H2"]
    assert C.default_clusters(["Na", "Cl"]) == ["Na2Cl2"]
    assert C.default_clusters(["C", "N", "O"]) == []
    assert cluster_names(TuneSettings(clusters=("Li2F2",)), ["H", "Li", "F"]) == ["Li2F2"]
    with pytest.raises(InputError, match="unknown cluster 'Li4F4'"):
        cluster_names(TuneSettings(clusters=("Li4F4",)), ["H", "Li", "F"])
    with pytest.raises(InputError, match="Na2Cl2 needs Cl, Na"):
        cluster_names(TuneSettings(clusters=("Na2Cl2",)), ["H", "Li", "F"])
    # the config schema offers exactly the registry's clusters
    enum = schema()["properties"]["tune"]["properties"]["clusters"]["items"]["enum"]
    assert enum == list(C.CLUSTERS)


def test_read_cluster_rejects_malformed_records(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"name": "x", "symbols": ["H", "H"], "positions_bohr": [[0, 0, 0]], "status": "ok",
                             "binding_hartree": -0.1}))
    with pytest.raises(InputError, match="2 symbols but 1 positions"):
        C.read_cluster(p)
    p.write_text(json.dumps({"name": "x", "symbols": ["H"], "positions_bohr": [[0, 0, 0]], "status": "ok"}))
    with pytest.raises(InputError, match="binding_hartree"):
        C.read_cluster(p)
    with pytest.raises(InputError, match="needs"):
        C.run_cluster("Li2F2", None, tmp_path / "y.json", elements=["H"])
    assert not (tmp_path / "y.json").exists()


def test_linear_h3_gives_the_published_h_plus_h2_barrier(tmp_path):
    """E(H3 saddle) − E(H2) − E(H) at CCSD(T)/aug-cc-pVDZ (exact for 2 and 3 electrons within the
    basis) against 9.61 kcal/mol (Mielke, Garrett, Peterson, J. Chem. Phys. 116, 4142 (2002), CBS):
    within 1 kcal/mol, the aVDZ basis error."""
    from pyscf import cc, gto, lib, scf

    from ectem_core.qm.level import Level, load_basis

    lib.num_threads(1)
    level = Level(method="ccsd(t)", basis="aug-cc-pvdz", frozen_core=True)
    rec = C.run_cluster("H3_linear", level, tmp_path / "H3.json", elements=["H", "Li", "F"])
    assert rec["status"] == "ok" and C.read_cluster(tmp_path / "H3.json")["name"] == "H3_linear"
    e_h = rec["atom_energies_hartree"]["H"]
    assert e_h == pytest.approx(-0.5, abs=1e-3)                   # the basis' H atom
    h2 = gto.M(atom=[["H", (0, 0, 0)], ["H", (0, 0, 1.4011)]], unit="Bohr", verbose=0,
               basis={"H": load_basis("aug-cc-pvdz", "H")})
    e_h2 = cc.CCSD(scf.RHF(h2).run()).run().e_tot
    barrier_kcal = (rec["energy_hartree"] - e_h2 - e_h) * 627.5094740631
    assert barrier_kcal == pytest.approx(9.61, abs=1.0)
    assert rec["binding_hartree"] == pytest.approx(rec["energy_hartree"] - 3 * e_h, abs=1e-12)
