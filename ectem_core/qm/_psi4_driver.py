"""Run one atomic Psi4 job described by a JSON file; write a JSON result and Molden files.

This file is executed BY PATH under a Python that can import psi4 (Debian's /usr/bin/python3
with psi4's multiarch directory on PYTHONPATH, or a conda env): it must not import ectem_core,
numpy-only helpers or anything else outside the standard library and psi4.

    python3 _psi4_driver.py JOB.json

Job keys (written by ectem_core.qm.psi4_backend):
  result_path, output_file, scratch      files/directories inside the job's temp directory
  symbol, charge, multiplicity           the atom (placed at the origin, bohr, D2h symmetry)
  basis_block                            Psi4 basis block ('assign ...', '[name]', G94 shells)
  reference                              rhf | uhf | rohf
  docc, socc                             per-irrep occupations (Cotton order) or null
  e_convergence, d_convergence, maxiter  SCF thresholds
  attempts                               SCF attempts in order (default, sad, damped_gwh, soscf)
  scf_molden                             path of the SCF Molden file
  cc                                     list of {name, method, n_frozen, density, molden}
                                         (all with the same n_frozen: it is fixed at SCF time)
  cc_e_convergence, cc_r_convergence, cc_maxiter
  threads, memory_mb

Result: {"status": "ok" | "no_psi4" | "scf_not_converged" | "cc_failed" | "error", ...}.
Exit status 0 when the result file was written (whatever its status), 3 if psi4 cannot be
imported, 1 for anything unexpected (the traceback goes to stderr).
"""
import json
import os
import sys
import time
import traceback

EXIT_NO_PSI4 = 3
D2H_IRREPS = ("Ag", "B1g", "B2g", "B3g", "Au", "B1u", "B2u", "B3u")


def _write(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1)
    os.replace(tmp, path)


def _scf_attempt_options(attempt, job):
    """Psi4 SCF options of one attempt (1.3.2 has no level shift: damping + GWH, SOSCF)."""
    opts = {"guess": "auto", "damping_percentage": 0.0, "soscf": False,
            "maxiter": int(job["maxiter"])}
    if attempt == "sad":
        opts["guess"] = "sad"
    elif attempt == "damped_gwh":
        opts.update(guess="gwh", damping_percentage=50.0, damping_convergence=1e-5)
    elif attempt == "soscf":
        opts.update(guess="sad", soscf=True, soscf_max_iter=20)
    return opts


def _variable(psi4, name):
    try:
        return float(psi4.variable(name))
    except Exception:
        return None


def _run_scf(psi4, job, result):
    failed = []
    for attempt in job["attempts"]:
        psi4.core.clean()
        psi4.set_options(_scf_attempt_options(attempt, job))
        try:
            energy, wfn = psi4.energy("scf", return_wfn=True)
        except Exception as exc:  # SCFConvergenceError and friends
            failed.append("%s (%s: %s)" % (attempt, type(exc).__name__, (str(exc).strip().splitlines() or [""])[-1]))
            continue
        result["scf_attempt"] = attempt
        result["scf_failed_attempts"] = failed
        result["scf_iterations"] = _variable(psi4, "SCF ITERATIONS")
        result["scf_energy"] = float(energy)
        result["one_electron_energy"] = _variable(psi4, "ONE-ELECTRON ENERGY")
        result["two_electron_energy"] = _variable(psi4, "TWO-ELECTRON ENERGY")
        result["nuclear_repulsion_energy"] = _variable(psi4, "NUCLEAR REPULSION ENERGY")
        result["final_occupation"] = {
            "docc": [int(x) for x in wfn.doccpi().to_tuple()],
            "socc": [int(x) for x in wfn.soccpi().to_tuple()],
            "irreps": list(D2H_IRREPS),
        }
        return wfn
    result["status"] = "scf_not_converged"
    result["scf_failed_attempts"] = failed
    return None


def _mo_density(psi4, wfn, which):
    """The SO-basis density of `wfn` (spin `which`) transformed to its MO basis."""
    c = wfn.Ca() if which == "a" else wfn.Cb()
    d = wfn.Da() if which == "a" else wfn.Db()
    sc = psi4.core.doublet(wfn.S(), c, False, False)
    return psi4.core.triplet(sc, d, sc, True, False, False)


def _c1_copy(psi4, wfn):
    """The converged SCF wavefunction re-expressed without symmetry (C1)."""
    for key in ("DOCC", "SOCC"):  # per-irrep D2h occupations make no sense in C1
        psi4.core.revoke_global_option_changed(key)
    mol = wfn.molecule().clone()
    mol.reset_point_group("c1")
    mol.fix_orientation(True)
    mol.fix_com(True)
    mol.update_geometry()
    basis = psi4.core.BasisSet.build(mol, "ORBITAL", psi4.core.get_global_option("BASIS"), quiet=True)
    return wfn.c1_deep_copy(basis)


def _run_cc(psi4, job, task, scf_wfn):
    """One CCSD/CCSD(T) on the converged SCF with `n_frozen` frozen core orbitals;
    optionally the CCSD one-particle (Lambda, orbital-unrelaxed) density as a natural-orbital Molden file.

    task["c1"]: run the CC without symmetry. Psi4 1.3.2's ccdensity mis-sorts the beta
    density of open-shell (UHF) references between D2h irreps (the alpha density and all
    energies are right); in C1 it agrees with PySCF's UCCSD density."""
    out = {"name": task["name"], "method": task["method"], "n_frozen": int(task["n_frozen"]),
           "symmetry": "c1" if task.get("c1") else "d2h"}
    if task.get("c1"):
        scf_wfn = _c1_copy(psi4, scf_wfn)
    psi4.core.clean()
    if int(scf_wfn.nfrzc()) != int(task["n_frozen"]):
        raise ValueError("the SCF wavefunction was built with %d frozen orbitals, the CC task needs %d"
                         % (scf_wfn.nfrzc(), task["n_frozen"]))
    psi4.set_options({"e_convergence": float(job["cc_e_convergence"]),
                      "r_convergence": float(job["cc_r_convergence"]),
                      "maxiter": int(job["cc_maxiter"])})
    t0 = time.time()
    energy, ccwfn = psi4.energy(task["method"], ref_wfn=scf_wfn, return_wfn=True)
    out["total_energy"] = float(energy)
    out["n_frozen_psi4"] = int(ccwfn.nfrzc())  # what Psi4 actually froze
    out["ccsd_correlation"] = _variable(psi4, "CCSD CORRELATION ENERGY")
    out["triples"] = _variable(psi4, "(T) CORRECTION ENERGY") if task["method"] == "ccsd(t)" else 0.0
    out["wall_s"] = time.time() - t0
    if task.get("density"):
        try:
            psi4.core.set_global_option("WFN", "CCSD")
            psi4.core.set_global_option("DERTYPE", "NONE")
            psi4.core.set_global_option("ONEPDM", True)
            psi4.core.set_local_option("CCLAMBDA", "R_CONVERGENCE", float(job["cc_r_convergence"]))
            psi4.core.cchbar(ccwfn)
            psi4.core.cclambda(ccwfn)
            psi4.core.ccdensity(ccwfn)
            da = _mo_density(psi4, ccwfn, "a")
            db = _mo_density(psi4, ccwfn, "b")
            out["density_trace"] = [sum(da.get(h, i, i) for h in range(da.nirrep()) for i in range(da.rows(h))),
                                    sum(db.get(h, i, i) for h in range(db.nirrep()) for i in range(db.rows(h)))]
            psi4.molden(ccwfn, task["molden"], density_a=da, density_b=db)
            out["molden"] = task["molden"]
        except Exception as exc:
            out["density_error"] = "%s: %s" % (type(exc).__name__, " ".join(str(exc).split())[:400])
        finally:
            psi4.core.set_global_option("WFN", "SCF")
            psi4.core.revoke_global_option_changed("WFN")
            psi4.core.set_global_option("ONEPDM", False)
            psi4.core.revoke_global_option_changed("ONEPDM")
    return out


def run(job):
    result = {"status": "ok", "python": sys.version.split()[0]}
    try:
        import psi4
    except Exception as exc:
        return {"status": "no_psi4", "error": "%s: %s" % (type(exc).__name__, exc),
                "python_executable": sys.executable}
    result["psi4_version"] = psi4.__version__
    try:
        import numpy
        result["numpy_version"] = numpy.__version__
    except Exception:
        pass
    psi4.core.set_output_file(job["output_file"], False)
    psi4.core.IOManager.shared_object().set_default_path(job["scratch"])
    psi4.set_memory(int(job["memory_mb"]) * 1000 * 1000)
    psi4.set_num_threads(int(job["threads"]))
    psi4.geometry(
        "units bohr\nno_reorient\nno_com\nsymmetry d2h\n%d %d\n%s 0.0 0.0 0.0\n"
        % (int(job["charge"]), int(job["multiplicity"]), job["symbol"]),
        name="atom")
    psi4.basis_helper(job["basis_block"], name=job["basis_name"])
    opts = {"reference": job["reference"], "scf_type": "pk", "puream": True,
            "e_convergence": float(job["e_convergence"]), "d_convergence": float(job["d_convergence"]),
            "fail_on_maxiter": True, "freeze_core": False,
            # The frozen-core count is fixed when the SCF wavefunction is built, so it is set
            # here from the (single) CC task, not later.
            "num_frozen_docc": int(job["cc"][0]["n_frozen"]) if job.get("cc") else 0,
            "molden_with_virtual": True}
    if job.get("docc") is not None:
        opts["docc"] = [int(x) for x in job["docc"]]
        opts["socc"] = [int(x) for x in job["socc"]]
    psi4.set_options(opts)
    t0 = time.time()
    scf_wfn = _run_scf(psi4, job, result)
    result["scf_wall_s"] = time.time() - t0
    if scf_wfn is None:
        return result
    psi4.molden(scf_wfn, job["scf_molden"])
    result["scf_molden"] = job["scf_molden"]
    # CC options are per module; SCF convergence options must not leak into CC.
    result["cc"] = []
    for task in job.get("cc", []):
        try:
            result["cc"].append(_run_cc(psi4, job, task, scf_wfn))
        except Exception as exc:
            result["status"] = "cc_failed"
            result["error"] = "%s %s: %s: %s" % (task["method"], task["name"], type(exc).__name__,
                                                 " ".join(str(exc).split())[:400])
            break
    psi4.core.clean()
    return result


def main(argv):
    with open(argv[1]) as fh:
        job = json.load(fh)
    try:
        result = run(job)
    except Exception as exc:
        traceback.print_exc()
        result = {"status": "error", "error": "%s: %s" % (type(exc).__name__, " ".join(str(exc).split())[:600])}
    _write(job["result_path"], result)
    return EXIT_NO_PSI4 if result["status"] == "no_psi4" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
