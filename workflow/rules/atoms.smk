# Stage 1 (ectem_core.atoms): isolated-atom states (energies + sphericalized densities), then
# derived IP/EA, excitation energies and exclusions per element.
from ectem_core.atoms import state_from_id
from ectem_core.qm.resources import qm_resources


def _raw_of_element(wildcards):
    return [L.atom_raw(wildcards.element, sid) for sid in STATES[wildcards.element]]


rule atom_state:
    """Energy and sphericalized density of one atomic state."""
    output:
        raw=L.atom_raw("{element}", "{state}"),
        npz=report(L.atom_density("{element}", "{state}"), caption="../report/atom_state.rst",
                   category="Atomic states"),
    params:
        input_hash=lambda wc: ATOMS.input_hash(state_from_id(wc.state, ATOMS)),
    threads: config.get("threads", 1)
    resources:
        mem_mb=lambda wc: qm_resources(wc.state, ATOMS)["mem_mb"],
        runtime=lambda wc: qm_resources(wc.state, ATOMS)["runtime"],
    log:
        L.log("atoms/{element}", "{state}"),
    script:
        "../scripts/atom_state.py"


# Light bookkeeping rules run inside the Snakemake process (`run:`) and never go to a
# cluster queue: a separate Python start per file cost ~0.6 s each, 40 % of the default run.
localrules:
    atom_record,
    atom_manifest,


rule atom_record:
    """Final per-state record: raw result + derived energies + status/reason."""
    input:
        _raw_of_element,
    output:
        L.atom_record("{element}", "{state}"),
    log:
        L.log("atoms/{element}", "{state}_record"),
    run:
        from ectem_core.atoms import write_state_record

        with open(log[0], "w") as fh:
            write_state_record(wildcards.element, wildcards.state, input, output[0], ATOMS)
            print(f"{wildcards.state}: record from {len(input)} raw states", file=fh)


rule atom_manifest:
    """Which states of an element enter the ensemble, and why others were excluded."""
    input:
        _raw_of_element,
    output:
        report(L.atom_manifest("{element}"), caption="../report/atom_manifest.rst", category="Atomic states"),
    log:
        L.log("atoms/{element}", "manifest"),
    run:
        from ectem_core.atoms import write_manifest

        with open(log[0], "w") as fh:
            write_manifest(wildcards.element, input, output[0], ATOMS)
            print(f"{wildcards.element}: manifest of {len(input)} states", file=fh)
