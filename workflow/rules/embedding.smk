# Stage 3: embedding function of every ensemble state (Daw–Baskes concordance, or a spline
# of the Daw curve where the two do not agree), and one figure per element. Needs FIT_STATES
# from fits.smk (included before this file).
from ectem_core.embedding import settings_dict as _embedding_settings_dict
from ectem_core.embedding import settings_from_config as _embedding_settings_from_config
from ectem_core.io import canonical_hash as _canonical_hash

EMBED_SETTINGS = _embedding_settings_from_config(config)
# The background-density window uses the neutral ground states of the whole element set.
EMBED_PARTNERS = [f"results/fits/{el}/{el}0.json" for el in config["elements"]]


def embedding_outputs():
    files = [f"results/embedding/{el}/embedding.png" for el in FIT_STATES]
    for el, ids in FIT_STATES.items():
        files += [f"results/embedding/{el}/{sid}.json" for sid in ids]
    return files


rule embed_state:
    """Daw curve, background-density window, concordance fit and embedding function of one state."""
    input:
        fit="results/fits/{element}/{state}.json",
        partners=EMBED_PARTNERS,
    output:
        "results/embedding/{element}/{state}.json",
    params:
        settings=_canonical_hash(_embedding_settings_dict(EMBED_SETTINGS)),
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/embed_state.py"


localrules:
    embed_plot,


rule embed_plot:
    """Embedding-function overlay and Daw–Baskes parity figure of all states of an element."""
    input:
        lambda wc: [f"results/embedding/{wc.element}/{sid}.json" for sid in FIT_STATES[wc.element]],
    output:
        report("results/embedding/{element}/embedding.png", caption="../report/embedding.rst",
               category="Embedding functions"),
    script:
        "../scripts/embed_plot.py"
