"""Molecular dynamics with the ECT-EAM calculator (ASE VelocityVerlet, NVE): energy conservation in
a periodic rock-salt crystal, and one dissociating molecule whose weights switch from the ion pair
to the neutral atoms on the way out ("surface hopping without hops": the CPE re-solves the weights
at every step, the energy stays one continuous function of the positions).

Units at the interface: Å, fs, eV, K. Every run returns its time series and summary numbers:
the total-energy fluctuation (std) and drift (last − first) per atom against the kinetic-energy
fluctuation, the mean temperature, and the cost per step."""
from __future__ import annotations

import time

import numpy as np

from ..errors import InputError


def _calculator(bundle, variant):
    from ..potential.calculator import ECTEAM

    return ECTEAM(str(bundle), variant=variant)


def _series(dyn, atoms, record):
    def rec():
        e_pot = atoms.get_potential_energy()
        e_kin = atoms.get_kinetic_energy()
        record["time_fs"].append(dyn.get_time() / _fs())
        record["e_pot_eV"].append(float(e_pot))
        record["e_kin_eV"].append(float(e_kin))
        record["e_tot_eV"].append(float(e_pot + e_kin))
        record["temperature_K"].append(float(atoms.get_temperature()))
        q = atoms.get_charges()
        record["q_min"].append(float(q.min()))
        record["q_max"].append(float(q.max()))
    return rec


def _fs():
    from ase import units

    return units.fs


def crystal_nve(bundle, symbols, a0: float, temperature_K: float, steps: int = 200, dt_fs: float = 1.0,
                repeat=(2, 2, 2), seed: int = 1, variant: str = "pure", progress=None) -> dict:
    """NVE of a rock-salt supercell (conventional cell × repeat: 64 atoms for 2×2×2) at lattice
    constant a0 (Å), started from Maxwell–Boltzmann velocities at 2 T (half the kinetic energy goes
    into the lattice: the mean temperature settles near T)."""
    from ase.md.velocitydistribution import Stationary, thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    from .structures import build

    if steps < 2 or dt_fs <= 0 or temperature_K < 0:
        raise InputError(f"MD: need steps >= 2, dt > 0 fs and T >= 0 K (got {steps}, {dt_fs}, {temperature_K})")
    atoms = build(symbols, "rocksalt", a0, cubic=True).repeat(tuple(repeat))
    atoms.calc = _calculator(bundle, variant)
    thermalize_momenta(atoms, temperature_K=2.0 * temperature_K, rng=np.random.default_rng(seed))
    Stationary(atoms)
    dyn = VelocityVerlet(atoms, timestep=dt_fs * _fs())
    rec = {k: [] for k in ("time_fs", "e_pot_eV", "e_kin_eV", "e_tot_eV", "temperature_K", "q_min", "q_max")}
    dyn.attach(_series(dyn, atoms, rec), interval=1)
    if progress:
        dyn.attach(lambda: progress(f"MD {''.join(symbols)} {temperature_K:.0f} K: step {dyn.nsteps}/{steps}"),
                   interval=max(1, steps // 5))
    t0 = time.perf_counter()
    dyn.run(steps)
    seconds = time.perf_counter() - t0
    n = len(atoms)
    e_tot = np.array(rec["e_tot_eV"])
    e_kin = np.array(rec["e_kin_eV"])
    return {"formula": "".join(symbols), "variant": variant, "atoms": n, "a0_angstrom": a0,
            "temperature_target_K": temperature_K, "temperature_mean_K": float(np.mean(rec["temperature_K"][len(e_tot) // 2:])),
            "dt_fs": dt_fs, "steps": steps,
            "e_tot_std_eV_per_atom": float(e_tot.std() / n), "e_tot_drift_eV_per_atom": float((e_tot[-1] - e_tot[0]) / n),
            "e_kin_std_eV_per_atom": float(e_kin.std() / n),
            "conservation_ratio": float(e_tot.std() / max(e_kin.std(), 1e-300)),
            "q_range": [float(min(rec["q_min"])), float(max(rec["q_max"]))],
            "seconds_per_step": seconds / steps, "series": rec}


def dissociation(bundle, symbols, r0: float | None, e_excess_eV: float, steps: int = 800, dt_fs: float = 0.25,
                 variant: str = "pure", r_stop: float = 14.0) -> dict:
    """A diatomic started at r0 (Å; None: the model's own minimum, found on 0.5–5 Å) with the binding
    energy plus e_excess_eV of kinetic energy along the bond (E_kin = −E(r0) + excess), followed until
    R > r_stop Å or `steps`. Records R(t), q(t), every state's weight and the energies."""
    from ase import Atoms
    from ase.md.verlet import VelocityVerlet
    from scipy import optimize

    atoms = Atoms("".join(symbols), positions=[[0, 0, 0], [0, 0, r0 or 2.0]], pbc=False)
    atoms.calc = _calculator(bundle, variant)
    if r0 is None:
        def energy(r):
            atoms.positions[1, 2] = r
            return atoms.get_potential_energy()

        grid = np.linspace(0.5, 5.0, 46)
        k = int(np.argmin([energy(r) for r in grid]))
        k = min(max(k, 1), grid.size - 2)
        r0 = float(optimize.minimize_scalar(energy, bracket=(grid[k - 1], grid[k], grid[k + 1])).x)
        atoms.positions[1, 2] = r0
    e0 = atoms.get_potential_energy()
    e_kin = max(-e0, 0.0) + e_excess_eV
    m = atoms.get_masses()
    mu = m[0] * m[1] / (m[0] + m[1])
    v_rel = np.sqrt(2.0 * e_kin / mu)            # Å per ASE time unit (eV, amu)
    atoms.set_velocities([[0, 0, -v_rel * mu / m[0]], [0, 0, v_rel * mu / m[1]]])
    dyn = VelocityVerlet(atoms, timestep=dt_fs * _fs())
    calc = atoms.calc
    system = calc.model.system(atoms.get_chemical_symbols())
    ids = [f"{i}:{calc.model.elements[k].state_ids[s]}" for i, k in enumerate(system.element_index)
           for s in range(len(calc.model.elements[k].state_ids))]
    rec = {"time_fs": [], "R_angstrom": [], "q_A": [], "e_pot_eV": [], "e_kin_eV": [], "e_tot_eV": [], "weights": []}

    def log():
        rec["time_fs"].append(dyn.get_time() / _fs())
        rec["R_angstrom"].append(float(atoms.get_distance(0, 1)))
        ep, ek = atoms.get_potential_energy(), atoms.get_kinetic_energy()
        rec["q_A"].append(float(atoms.get_charges()[0]))
        rec["e_pot_eV"].append(float(ep))
        rec["e_kin_eV"].append(float(ek))
        rec["e_tot_eV"].append(float(ep + ek))
        rec["weights"].append([float(w) for w in calc.results["weights"]])

    dyn.attach(log, interval=1)
    log()
    t0 = time.perf_counter()
    for _ in range(steps):
        dyn.run(1)
        if atoms.get_distance(0, 1) > r_stop:
            break
    e_tot = np.array(rec["e_tot_eV"])
    return {"molecule": "".join(symbols), "variant": variant, "r0_angstrom": r0, "e_excess_eV": e_excess_eV,
            "dt_fs": dt_fs, "state_ids": ids, "e_tot_range_eV": float(e_tot.max() - e_tot.min()),
            "e_kin_initial_eV": float(e_kin), "q_final": rec["q_A"][-1], "R_final_angstrom": rec["R_angstrom"][-1],
            "seconds": time.perf_counter() - t0, "series": rec}
