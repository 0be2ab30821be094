"""Run configuration: load YAML, validate against the JSON schema, check names that the
schema cannot (methods, basis sets per element, excited configurations).

Every error names the offending key path and value and says what to do.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from .errors import InputError


def schema_path() -> str:
    """Path of the one config JSON schema (package data; the workflow validates against it too)."""
    return str(resources.files("ectem_core.data").joinpath("config_schema.yaml"))


def schema() -> dict:
    """The config JSON schema as a dict."""
    return yaml.safe_load(Path(schema_path()).read_text())


def load_config(path) -> dict:
    """Read and fully check a config file; InputError on any problem."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise InputError(f"config file {p} does not exist") from None
    except yaml.YAMLError as exc:
        raise InputError(f"config file {p} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"config file {p} must hold a mapping of keys (elements, levels, ...)")
    check_config(data, source=str(p))
    return data


def _path(err) -> str:
    return ".".join(str(x) for x in err.absolute_path) or "<top level>"


def check_schema(config: dict, source: str = "config") -> None:
    """JSON-schema validation with a message naming the key path and offending value."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(list(e.absolute_path)), str(e.message)))
    if errors:
        e = errors[0]
        if e.validator == "additionalProperties":
            allowed = sorted(e.schema.get("properties", {}))
            extra = sorted(set(e.instance) - set(allowed)) if isinstance(e.instance, dict) else []
            where = _path(e)
            key = ".".join(filter(None, [where if where != "<top level>" else "", extra[0] if extra else ""]))
            raise InputError(f"{source}: unknown key {key!r} (allowed here: {', '.join(allowed)})")
        if e.validator == "enum":
            raise InputError(f"{source}: {_path(e)} = {e.instance!r} is not allowed; use one of {e.validator_value}")
        raise InputError(f"{source}: {_path(e)} = {e.instance!r}: {e.message}")


def check_config(config: dict, source: str = "config") -> None:
    """Schema + semantic checks (methods known to PySCF/libxc, basis sets defined for each element)."""
    from .atoms.compute import settings_from_config
    from .atoms.states import default_states
    from .qm.level import Level, load_basis

    check_schema(config, source)
    try:
        set_name(config)
    except InputError as exc:
        raise InputError(f"{source}: {str(exc).removeprefix('config: ')}") from None
    for which in ("energy", "density"):
        lv = config.get("levels", {}).get(which)
        if not lv:
            continue
        if "method" in lv:
            try:
                Level(method=lv["method"], basis=lv.get("basis", "sto-3g"))
            except InputError as exc:
                raise InputError(f"{source}: levels.{which}.method = {lv['method']!r}: {exc}") from None
        if "basis" in lv:
            for el in config["elements"]:
                try:
                    load_basis(lv["basis"], el)
                except InputError as exc:
                    hint = str(exc)[str(exc).find("(PySCF"):str(exc).find(")") + 1] if "(PySCF" in str(exc) else ""
                    raise InputError(f"{source}: levels.{which}.basis = {lv['basis']!r} is not defined for element "
                                     f"{el}; pick a basis set that covers every element {hint}".rstrip()) from None
    try:
        settings = settings_from_config(config)
        for el in config["elements"]:
            default_states(el, anions=settings.anions, excited=settings.excited.get(el, []),
                           use_builtin_excited=settings.use_builtin_excited)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def set_name(config: dict) -> str:
    """Name of the element set (report and bundle file names): `name`, or the elements joined by "-".
    A `name` spelled like another element set ("H-Li-F" over elements Na, Cl: a copied config whose
    elements were changed) is refused: its results would land under the other set's file names."""
    elements = list(config["elements"])
    name = config.get("name")
    if not name:
        return "-".join(elements)
    from .elements import SYMBOLS

    parts = str(name).split("-")
    if all(p in SYMBOLS for p in parts) and sorted(parts) != sorted(elements):
        raise InputError(f"config: name {name!r} names the element set {', '.join(parts)} but elements are "
                         f"{', '.join(elements)}: remove `name` (the set is then called {'-'.join(elements)!r}) "
                         "or give it a name of its own")
    return str(name)


def settings_section(cls, name: str, section: dict | None, convert: dict | None = None, extra_allowed=()):
    """Build dataclass `cls` from config section `name`; an unknown key is an InputError that
    lists the allowed ones. `convert` maps keys to callables (e.g. list -> tuple)."""
    from dataclasses import fields

    section = dict(section or {})
    known = {f.name for f in fields(cls)}
    unknown = set(section) - known
    if unknown:
        allowed = ", ".join([*extra_allowed, *sorted(known)])
        raise InputError(f"unknown key {name}.{sorted(unknown)[0]} (allowed: {allowed})")
    for key, fn in (convert or {}).items():
        if key in section:
            section[key] = fn(section[key])
    return cls(**section)
