"""Tuning options (config section `tune:`), with one set of defaults (docs/tune.md).

enabled: run the stage (default true when the set has molecules); molecules: the training
molecules (default every configured diatomic with a reference); parameters: the kinds
(beta, beta0, gamma, K; default beta0 and K); combining: K per element combined as √(K_A K_B)
("geometric", default) or one K per element pair ("pair"); prior_sigma: widths of the priors ({kind: σ}, in ln for the
scales); sigma_energy_eV: the energy scale of the data residuals; leave_one_out: refit without
each molecule in turn; clusters: held-out polyatomic references (default: those of the set);
version: the tuned bundle's version (default the bundle's); max_evaluations per fit."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from .fit import DEFAULT_SIGMA_ENERGY_EV
from .terms import COMBINING, KINDS


@dataclass(frozen=True)
class TuneSettings:
    enabled: bool = True
    molecules: tuple | None = None
    parameters: tuple = ("beta0", "K")
    combining: str = "geometric"
    prior_sigma: dict = field(default_factory=dict)
    sigma_energy_eV: float = DEFAULT_SIGMA_ENERGY_EV
    leave_one_out: bool = True
    clusters: tuple | None = None
    version: str | None = None
    max_evaluations: int = 400


def settings_from_config(config: dict | None) -> TuneSettings:
    """TuneSettings from config['tune']; InputError naming a bad key or value."""
    from ..config import settings_section

    sec = dict((config or {}).get("tune") or {})
    s = settings_section(TuneSettings, "tune", sec, {"molecules": tuple, "parameters": tuple, "clusters": tuple})
    bad = [k for k in s.parameters if k not in KINDS]
    if bad or not s.parameters:
        raise InputError(f"tune.parameters: {bad[0] if bad else '[]'!r} — list some of {', '.join(KINDS)}")
    if len(s.parameters) > 4:
        raise InputError("tune.parameters: at most 4 per element")
    if s.combining not in COMBINING:
        raise InputError(f"tune.combining: {s.combining!r} — use one of {', '.join(COMBINING)}")
    if not (isinstance(s.sigma_energy_eV, (int, float)) and s.sigma_energy_eV > 0):
        raise InputError(f"tune.sigma_energy_eV must be a number > 0 (got {s.sigma_energy_eV!r})")
    if not (isinstance(s.max_evaluations, int) and s.max_evaluations >= 10):
        raise InputError(f"tune.max_evaluations must be an integer >= 10 (got {s.max_evaluations!r})")
    if s.version is not None:
        from ..potential.bundle import check_version

        check_version(s.version, "tune.version")
    mols = (config or {}).get("molecules") or {}
    if s.molecules is not None and "names" in mols and mols["names"] is not None:
        missing = [m for m in s.molecules if m not in mols["names"]]
        if missing:
            raise InputError(f"tune.molecules: {missing[0]!r} is not in molecules.names ({', '.join(mols['names'])})")
    return s


def cluster_names(settings: TuneSettings, elements) -> list[str]:
    """The held-out clusters of a run: tune.clusters (each known and made of the set's elements) or,
    by default, every registry cluster made only of `elements`."""
    from ..molecules.clusters import CLUSTERS, check_names, default_clusters

    if settings.clusters is None:
        return default_clusters(elements)
    names = check_names(settings.clusters)
    for n in names:
        extra = sorted(set(CLUSTERS[n].symbols) - set(elements))
        if extra:
            raise InputError(f"tune.clusters: {n} needs {', '.join(extra)}, which is not in elements "
                             f"({', '.join(elements)})")
    return names
