"""The bundle index: a static index.json beside published archives listing, per name@version,
the archive's URL and sha256, the parameter digest, elements, levels and assembly date.
`publish` adds archives to a local index directory, `load_index` reads one from a path,
file:// or http(s):// URL, `search` filters it and `locate` turns NAME[@VERSION] into the
archive URL and sha256 that `store.pull` then checks. Format: docs/bundles.md ("Index").

No physics and no units here: names, versions, digests (hex), sizes (bytes) and URLs.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io import atomic_path, file_sha256, write_json
from ..potential.bundle import SEMVER, check_version
from .store import NAME_RE, IntegrityError, download, read_archive, source_path, verify, version_key

__all__ = ["INDEX_FORMAT", "INDEX_VERSION", "INDEX_FILE", "Index", "Located", "PublishResult",
           "index_location", "load_index", "publish", "search", "locate"]

INDEX_FORMAT = "ectem-bundle-index"
INDEX_VERSION = 1
INDEX_FILE = "index.json"
MAX_INDEX_BYTES = 16 << 20          # an index is a few hundred bytes per entry
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Index:
    """A loaded index: where it came from, the URL relative entry URLs are resolved against,
    whether it is remote (http/https), and its entries sorted by name and version."""

    location: str
    base_url: str
    remote: bool
    bundles: tuple


@dataclass(frozen=True)
class Located:
    """An index entry resolved for download: absolute archive URL and the digests to check."""

    name: str
    version: str
    url: str
    archive_sha256: str
    parameters_sha256: str | None
    index: str


@dataclass(frozen=True)
class PublishResult:
    index_path: Path
    archive_path: Path
    entry: dict
    changed: bool           # False: the identical archive was already published


def index_location(index=None) -> str | None:
    """--index, else $ECTEM_INDEX (an empty variable counts as unset), else None."""
    if index:
        return str(index)
    return os.environ.get("ECTEM_INDEX") or None


def _sort_key(entry: dict):
    return entry["name"], version_key(entry["version"])


# ------------------------------------------------------------------------------ reading

def _check_entry(e, where: str, i: int) -> dict:
    if not isinstance(e, dict):
        raise InputError(f"bundle index {where}: entry {i} is not a JSON object")
    label = f"entry {i} ({e.get('name')!r}@{e.get('version')!r})"
    if not isinstance(e.get("name"), str) or not NAME_RE.match(e["name"]):
        raise InputError(f"bundle index {where}: {label} has no usable name")
    if not isinstance(e.get("version"), str) or not SEMVER.match(e["version"]):
        raise InputError(f"bundle index {where}: {label} has no semantic version X.Y.Z")
    if not isinstance(e.get("url"), str) or not e["url"]:
        raise InputError(f"bundle index {where}: {label} has no url")
    if not isinstance(e.get("archive_sha256"), str) or not SHA256_RE.match(e["archive_sha256"]):
        raise InputError(f"bundle index {where}: {label} archive_sha256 is not 64 lowercase hex digits")
    if e.get("parameters_sha256") is not None and not (isinstance(e["parameters_sha256"], str)
                                                        and SHA256_RE.match(e["parameters_sha256"])):
        raise InputError(f"bundle index {where}: {label} parameters_sha256 is not 64 lowercase hex digits")
    if not isinstance(e.get("elements", []), list) or not all(isinstance(x, str) for x in e.get("elements", [])):
        raise InputError(f"bundle index {where}: {label} elements is not a list of symbols")
    return e


def _parse(data: bytes, where: str) -> list[dict]:
    """The checked, sorted entries of an index document; one InputError naming `where` otherwise."""
    try:
        doc = json.loads(data)
    except ValueError as exc:          # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"bundle index {where} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT:
        raise InputError(f"bundle index {where} is not an ectem bundle index (format {INDEX_FORMAT})")
    if doc.get("index_version") != INDEX_VERSION:
        raise InputError(f"bundle index {where}: index_version {doc.get('index_version')!r} is not supported "
                         f"(this ectem reads {INDEX_VERSION})")
    if not isinstance(doc.get("bundles"), list):
        raise InputError(f"bundle index {where}: 'bundles' is not a list")
    entries, seen = [], set()
    for i, e in enumerate(doc["bundles"]):
        e = _check_entry(e, where, i)
        key = (e["name"], e["version"])
        if key in seen:
            raise InputError(f"bundle index {where} lists {e['name']}@{e['version']} twice")
        seen.add(key)
        entries.append(e)
    return sorted(entries, key=_sort_key)


def load_index(location) -> Index:
    """Read an index: a directory (its index.json), a JSON file, a file:// URL or an http(s)://
    URL (one whose path does not end in .json names a directory: its index.json; at most
    MAX_INDEX_BYTES bytes, the store's download timeout). InputError naming the location when
    it is missing or malformed."""
    loc = str(location)
    local = source_path(loc)
    if local is None:
        parsed = urllib.parse.urlparse(loc)
        url = loc if parsed.path.endswith(".json") else urllib.parse.urlunparse(
            parsed._replace(path=parsed.path.rstrip("/") + "/" + INDEX_FILE))
        with tempfile.TemporaryDirectory(prefix="ectem-index-") as tmp:
            dest = Path(tmp) / INDEX_FILE
            download(url, dest, max_bytes=MAX_INDEX_BYTES)
            data = dest.read_bytes()
        return Index(url, url, True, tuple(_parse(data, url)))
    path = local / INDEX_FILE if local.is_dir() else local
    if not path.is_file():
        raise InputError(f"bundle index {path} does not exist")
    if path.stat().st_size > MAX_INDEX_BYTES:
        raise InputError(f"bundle index {path} is larger than {MAX_INDEX_BYTES} bytes: not an index")
    return Index(str(path), path.resolve().as_uri(), False, tuple(_parse(path.read_bytes(), str(path))))


# ------------------------------------------------------------------------------ search / locate

def archive_url(index: Index, entry: dict) -> str:
    """The entry's URL made absolute against the index location; a remote index may point only
    to http(s) archives (never to a file on the puller's machine)."""
    url = urllib.parse.urljoin(index.base_url, entry["url"])
    if index.remote and urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise InputError(f"bundle index {index.location}: {entry['name']}@{entry['version']} points to {url!r}; "
                         "a remote index may only point to http(s) archives")
    return url


def _matches(name: str, pattern: str) -> bool:
    """Glob (*, ?, [..]) when the pattern has one, else a substring; case-insensitive."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return pattern.lower() in name.lower()


def search(index: Index, pattern: str | None = None, element: str | None = None) -> list[dict]:
    """Entries whose name matches `pattern` (substring or glob, case-insensitive) and whose
    elements include `element` (case-insensitive), each with its absolute `archive_url`."""
    out = []
    for e in index.bundles:
        if pattern and not _matches(e["name"], pattern):
            continue
        if element and element.lower() not in {x.lower() for x in e.get("elements", [])}:
            continue
        out.append({**e, "archive_url": archive_url(index, e)})
    return out


def locate(index: Index, spec: str) -> Located:
    """NAME@VERSION, or NAME for its highest version, as an absolute archive URL with the
    sha256 the index states; InputError listing the names or versions the index has."""
    name, sep, version = str(spec).partition("@")
    if not NAME_RE.match(name):
        raise InputError(f"bundle reference {spec!r} is not NAME or NAME@VERSION (e.g. small@0.1.0)")
    if sep:
        check_version(version, f"version in {spec!r}")
    same = [e for e in index.bundles if e["name"] == name]
    if not same:
        names = sorted({e["name"] for e in index.bundles})
        raise InputError(f"bundle index {index.location} has no bundle named {name!r} "
                         f"(it lists: {', '.join(names) if names else 'nothing'})")
    if sep:
        entry = next((e for e in same if e["version"] == version), None)
        if entry is None:
            raise InputError(f"{name}@{version} is not in bundle index {index.location} "
                             f"(versions of {name}: {', '.join(e['version'] for e in same)})")
    else:
        entry = max(same, key=_sort_key)
    return Located(entry["name"], entry["version"], archive_url(index, entry), entry["archive_sha256"],
                   entry.get("parameters_sha256"), index.location)


# ------------------------------------------------------------------------------ publish

def _local_index_path(index_dir_or_path) -> Path:
    """index.json inside a directory, or the given *.json path; publishing writes local files."""
    local = source_path(str(index_dir_or_path))
    if local is None:
        raise InputError(f"publish writes a local index: {index_dir_or_path} is a URL; publish into a directory "
                         "and upload it (give the upload's URL as --base-url if it differs)")
    if local.is_dir() or local.suffix != ".json":
        return local / INDEX_FILE
    return local


def _place(archive: Path, target: Path, sha: str) -> None:
    """Copy the archive to target (atomic) unless target already holds these bytes."""
    if target.exists() and (target.resolve() == archive.resolve() or file_sha256(target) == sha):
        return
    with atomic_path(target) as tmp:
        shutil.copyfile(archive, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    if file_sha256(target) != sha:          # the source changed while it was copied
        target.unlink()
        raise InputError(f"{archive} changed while it was copied to {target}; publish it again")


def publish(archive_path, index_dir_or_path, base_url: str | None = None) -> PublishResult:
    """Verify a packed bundle, copy it beside the index as NAME-VERSION.tar.gz and add its entry
    (url relative to the index, or base_url/NAME-VERSION.tar.gz); index.json is rewritten
    atomically, entries sorted by name and version. Re-publishing the identical archive changes
    nothing; a different archive under a published name@version is refused (InputError), and a
    bundle that fails verification raises IntegrityError; the index is left as it was."""
    archive = Path(archive_path)
    index_path = _local_index_path(index_dir_or_path)
    if base_url is not None and urllib.parse.urlparse(base_url).scheme not in ("http", "https", "file"):
        raise InputError(f"--base-url {base_url!r} is not an http(s):// or file:// URL")
    if archive.is_dir():
        raise InputError(f"{archive} is a directory: publish takes a packed NAME-X.Y.Z.tar.gz (ectem bundle pack)")
    rep = verify(archive)
    if not rep.ok:
        raise IntegrityError(f"{archive} fails verification, not published: " + "; ".join(rep.problems))
    doc = json.loads(read_archive(archive)[1]["bundle.json"])
    existing = list(load_index(index_path).bundles) if index_path.exists() else []
    sha = file_sha256(archive)
    filename = f"{rep.name}-{rep.version}.tar.gz"
    target = index_path.parent / filename
    old = next((e for e in existing if (e["name"], e["version"]) == (rep.name, rep.version)), None)
    if old is not None:
        if old["archive_sha256"] != sha:
            raise InputError(f"{rep.name}@{rep.version} is already published in {index_path} with archive sha256 "
                             f"{old['archive_sha256']}; {archive} has {sha}: a published version never changes, "
                             "pack the new bundle with another --version")
        _place(archive, target, sha)
        return PublishResult(index_path, target, old, False)
    quoted = urllib.parse.quote(filename)
    entry = {"name": rep.name, "version": rep.version,
             "url": f"{base_url.rstrip('/')}/{quoted}" if base_url else quoted,
             "archive_sha256": sha, "parameters_sha256": rep.parameters_sha256,
             "elements": list(doc.get("elements") or []), "levels": doc.get("levels") or {},
             "created_utc": (doc.get("provenance") or {}).get("created_utc"),
             "bytes": archive.stat().st_size}
    _place(archive, target, sha)
    write_json(index_path, {"format": INDEX_FORMAT, "index_version": INDEX_VERSION,
                            "bundles": sorted([*existing, entry], key=_sort_key)})
    return PublishResult(index_path, target, entry, True)
