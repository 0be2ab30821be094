# Stage 1: isolated-atom states (energies + sphericalized densities), then derived IP/EA,
# excitation energies and exclusions per element.
from ectem_core.atoms import settings_from_config, state_from_id
from ectem_core.resources import qm_resources

ATOMS = settings_from_config(config)
STATES = {el: [s.state_id for s in ATOMS.states(el)] for el in config["elements"]}


def atom_outputs():
    files = [f"results/atoms/{el}/manifest.json" for el in STATES]
    for el, ids in STATES.items():
        files += [f"results/atoms/{el}/{sid}.json" for sid in ids]
    return files


def _raw_of_element(wildcards):
    return [f"results/atoms/{wildcards.element}/raw/{sid}.json" for sid in STATES[wildcards.element]]


rule atom_state:
    """Energy and sphericalized density of one atomic state."""
    output:
        raw="results/atoms/{element}/raw/{state}.json",
        npz=report("results/atoms/{element}/{state}.npz", caption="../report/atom_state.rst", category="Atomic states"),
    params:
        input_hash=lambda wc: ATOMS.input_hash(state_from_id(wc.state, ATOMS)),
    threads: config.get("threads", 1)
    resources:
        mem_mb=lambda wc: qm_resources(wc.state, ATOMS)["mem_mb"],
        runtime=lambda wc: qm_resources(wc.state, ATOMS)["runtime"],
    log:
        "logs/atoms/{element}/{state}.log",
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
        "results/atoms/{element}/{state}.json",
    run:
        from ectem_core.atoms import write_state_record

        write_state_record(wildcards.element, wildcards.state, input, output[0], ATOMS)


rule atom_manifest:
    """Which states of an element enter the ensemble, and why others were excluded."""
    input:
        _raw_of_element,
    output:
        report("results/atoms/{element}/manifest.json", caption="../report/atom_manifest.rst", category="Atomic states"),
    run:
        from ectem_core.atoms import write_manifest

        write_manifest(wildcards.element, input, output[0], ATOMS)
