# Stage 3 (ectem_core.embedding): embedding function of every ensemble state (Daw–Baskes
# concordance, or a spline of the Daw curve where the two do not agree), one figure per element.
from ectem_core.embedding.settings import settings_dict as _embedding_settings_dict
from ectem_core.io import canonical_hash as _canonical_hash

# The background-density window uses the neutral ground states of the whole element set.
EMBED_PARTNERS = [L.fit_record(el, f"{el}0") for el in ELEMENTS]


rule embed_state:
    """Daw curve, background-density window, concordance fit and embedding function of one state."""
    input:
        fit=L.fit_record("{element}", "{state}"),
        partners=EMBED_PARTNERS,
    output:
        L.embedding_record("{element}", "{state}"),
    params:
        settings=_canonical_hash(_embedding_settings_dict(EMBED_SETTINGS)),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        L.log("embedding/{element}", "{state}"),
    script:
        "../scripts/embed_state.py"


localrules:
    embed_plot,


rule embed_plot:
    """Embedding-function overlay and Daw–Baskes parity figure of all states of an element."""
    input:
        lambda wc: [L.embedding_record(wc.element, sid) for sid in FIT_STATES[wc.element]],
    output:
        report(L.embedding_figure("{element}"), caption="../report/embedding.rst", category="Embedding functions"),
    log:
        L.log("embedding/{element}", "plot"),
    script:
        "../scripts/embed_plot.py"
