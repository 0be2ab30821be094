"""Stage 3 — embedding functions: the Daw curve (`daw`), the background-density window
(`window`), the Daw–Baskes concordance fit (`concordance`), the packed evaluator (`function`),
options (`settings`), records (`records`) and figures (`plots`)."""
from .concordance import Priors, concordance_fit, embed_state
from .function import FORMS, baskes, embedding_function
from .settings import EmbeddingSettings, settings_from_config

__all__ = ["FORMS", "EmbeddingSettings", "Priors", "baskes", "concordance_fit", "embed_state", "embedding_function",
           "settings_from_config"]
