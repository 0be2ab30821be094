"""Versioned parameter bundles: deterministic .tar.gz packing with a sha256 manifest,
verification, safe pull (local path, file:// or http(s):// URL, optional sha256 pin, or
NAME[@VERSION] through a bundle index, see `index`) into a local store STORE/{name}/{version}/,
listing, and `name@version` resolution.

No physics here and no units: bytes, digests and paths. Layout and checks: docs/bundles.md.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import posixpath
import re
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EctemError, InputError
from ..io import dumps, write_bytes
from ..potential.bundle import (
    BODY_KEYS,
    BUNDLE_FORMAT,
    BUNDLE_SCHEMA_VERSION,
    DEFAULT_SIGNIFICANT_DIGITS,
    bundle_parameters_digest,
    check_version,
    load_bundle,
    parameters_digest,
)

__all__ = ["pack_bundle", "verify", "pull", "list_bundles", "resolve", "store_root", "parameters_digest",
           "read_archive", "download", "source_path", "version_key", "is_index_reference",
           "VerifyReport", "PullResult", "IntegrityError"]

MANIFEST_FORMAT = "ectem-bundle-manifest"
MANIFEST_VERSION = 1
RESERVED = ("bundle.json", "manifest.json", "README.md")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(@[^@/\\#]*)?$")   # NAME or NAME@VERSION (index)
HTTP_TIMEOUT_S = 30.0
MAX_ARCHIVE_BYTES = 1 << 30        # compressed download limit
MAX_UNPACKED_BYTES = 2 << 30       # sum of member sizes (gzip bomb guard)
MAX_MEMBERS = 10000
_CHUNK = 1 << 16


class IntegrityError(EctemError):
    """The bytes are not what they claim to be (digest or pin mismatch): CLI exit code 1."""


# ------------------------------------------------------------------------------ store location

def store_root(store=None) -> Path:
    """--dest/--store, else $ECTEM_STORE, else $XDG_DATA_HOME/ectem/bundles, else
    ~/.local/share/ectem/bundles (empty variables count as unset)."""
    if store:
        return Path(store).expanduser()
    if os.environ.get("ECTEM_STORE"):
        return Path(os.environ["ECTEM_STORE"]).expanduser()
    if os.environ.get("XDG_DATA_HOME"):
        return Path(os.environ["XDG_DATA_HOME"]).expanduser() / "ectem" / "bundles"
    return Path.home() / ".local" / "share" / "ectem" / "bundles"


def _check_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(f"bundle name {name!r} is not usable: letters, digits, '_', '.', '-', not starting "
                         "with '.' or '-'")
    return name


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------ pack

def _readme(doc: dict, version: str) -> str:
    prov = doc.get("provenance") or {}
    lines = [f"# Parameter bundle {doc['name']} {version}", "",
             "ECT-EAM parameter bundle built by ectem from isolated-atom quantum chemistry only.",
             "Load it with `ectem_core.potential.load_potential(\"bundle.json\")`, or after "
             f"`ectem bundle pull` as `{doc['name']}@{version}`.", "",
             "## Provenance", "",
             f"- ectem version: {prov.get('ectem', '?')}",
             f"- assembled (UTC): {prov.get('created_utc', '?')}",
             f"- config hash (sha256 of the canonical config): {prov.get('config_hash', '?')}",
             f"- parameter digest: {doc.get('parameters_sha256')} "
             f"({doc.get('significant_digits', DEFAULT_SIGNIFICANT_DIGITS)} significant digits)", "",
             "## Levels", ""]
    for role, level in (doc.get("levels") or {}).items():
        if isinstance(level, dict):
            desc = ", ".join(f"{k}={v}" for k, v in level.items())
        else:
            desc = str(level)
        lines.append(f"- {role}: {desc}")
    lines += ["", "## States in the ensemble", "",
              "| element | state | charge | electrons | ΔE (hartree) | embedding form |",
              "|---|---|---|---|---|---|"]
    for st in doc.get("states", []):
        emb = st.get("embedding") or {}
        lines.append(f"| {st.get('symbol')} | {st.get('state_id')} | {st.get('charge')} | {st.get('n_electrons')} "
                     f"| {st.get('delta_e_hartree'):.10g} | {emb.get('form', '?')} |")
    lines += ["", "## Excluded states", ""]
    excluded = doc.get("excluded") or []
    if excluded:
        lines += [f"- {e.get('state_id')}: {e.get('reason') or 'no reason recorded'}" for e in excluded]
    else:
        lines.append("none")
    lines += ["", "## Files", "", "`manifest.json` lists the sha256 of every other file; check them with "
              "`ectem bundle verify`.", ""]
    return "\n".join(lines)


def _check_member_name(rel: str) -> str:
    """An archive-relative file name for extra files: relative, normalized, no '..'."""
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel:
        raise InputError(f"extra file name {rel!r} must be a relative path with '/' separators, e.g. report/x.html")
    norm = posixpath.normpath(rel)
    if norm != rel or norm in (".", "..") or any(p in ("", ".", "..") for p in norm.split("/")):
        raise InputError(f"extra file name {rel!r} must be a normalized relative path without '.' or '..'")
    if norm in RESERVED:
        raise InputError(f"extra file name {rel!r} is reserved ({', '.join(RESERVED)})")
    return norm


def _prepare_bundle(bundle_json, version) -> tuple[dict, str]:
    """The bundle document to pack (version set, digest checked) and its version."""
    label = "bundle" if isinstance(bundle_json, dict) else f"bundle {bundle_json}"
    doc = load_bundle(bundle_json) if not isinstance(bundle_json, dict) else dict(bundle_json)
    _check_name(doc.get("name"))
    version = check_version(version if version is not None else doc.get("version"),
                            "bundle version" if version is not None else f"version of {label}")
    if "significant_digits" in doc:
        recomputed = bundle_parameters_digest(doc)
        if recomputed != doc.get("parameters_sha256"):
            raise IntegrityError(f"{label}: parameters_sha256 {doc.get('parameters_sha256')} does not "
                                 f"match its parameters ({recomputed}); it was modified after assembly: rebuild it")
    else:  # bundle written before digests were canonicalized: record the definition used now
        doc["significant_digits"] = DEFAULT_SIGNIFICANT_DIGITS
        doc["parameters_sha256"] = bundle_parameters_digest(doc)
    doc["version"] = version
    return doc, version


def _manifest(doc: dict, files: dict[str, bytes]) -> dict:
    return {"format": MANIFEST_FORMAT, "manifest_version": MANIFEST_VERSION,
            "name": doc["name"], "version": doc["version"], "schema_version": doc.get("schema_version"),
            "parameters_sha256": doc["parameters_sha256"], "significant_digits": doc["significant_digits"],
            "files": {rel: {"sha256": _sha256_bytes(data), "bytes": len(data)} for rel, data in sorted(files.items())}}


def _tar_gz(top: str, files: dict[str, bytes]) -> bytes:
    """Deterministic archive: members sorted, mtime 0, uid/gid 0, no user names, mode 0644,
    gzip header mtime 0 and no file name."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for rel in sorted(files):
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size, info.mtime, info.mode = len(files[rel]), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(files[rel]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def pack_bundle(bundle_json, out_dir, version: str | None = None, extra_files: dict | None = None) -> Path:
    """Write out_dir/{name}-{version}.tar.gz (byte-identical for identical inputs) holding
    {name}-{version}/bundle.json, manifest.json, README.md and the extra files (mapping
    archive-relative name -> path, e.g. {"report/H-Li-F.html": "results/report/H-Li-F.html"}).
    version: X.Y.Z; default the bundle's own `version`."""
    doc, version = _prepare_bundle(bundle_json, version)
    files = {"bundle.json": (dumps(doc) + "\n").encode(), "README.md": _readme(doc, version).encode()}
    for rel, src in sorted((extra_files or {}).items()):
        rel = _check_member_name(rel)
        p = Path(src)
        if not p.is_file():
            raise InputError(f"extra file {rel}: {p} does not exist or is not a regular file")
        files[rel] = p.read_bytes()
    files["manifest.json"] = (dumps(_manifest(doc, {k: v for k, v in files.items()})) + "\n").encode()
    top = f"{doc['name']}-{version}"
    out = Path(out_dir) / f"{top}.tar.gz"
    write_bytes(out, _tar_gz(top, files))
    return out


def pack_verified(bundle_json, out_path, version: str, extra_files: dict | None = None) -> Path:
    """Pack (see `pack_bundle`) into the directory of `out_path`, verify the archive, and leave it
    at `out_path`; a failed verification removes it and raises EctemError naming the problems."""
    out_path = Path(out_path)
    path = pack_bundle(bundle_json, out_path.parent, version=version, extra_files=extra_files)
    check = verify(path)
    if not check.ok:
        path.unlink()
        raise EctemError(f"packed bundle failed verification: {'; '.join(check.problems)}")
    if path.resolve() != out_path.resolve():
        os.replace(path, out_path)
    return out_path


# ------------------------------------------------------------------------------ reading archives

def _safe_members(tf: tarfile.TarFile, where: str) -> tuple[str, list[tarfile.TarInfo]]:
    """The single top directory and the regular-file members; InputError on any unsafe member
    (absolute path, '..', link, device, fifo, outside the top dir, duplicate, too large)."""
    top, files, seen, total = None, [], set(), 0
    members = tf.getmembers()
    if len(members) > MAX_MEMBERS:
        raise InputError(f"{where}: {len(members)} members (limit {MAX_MEMBERS}): not a bundle archive")
    for m in members:
        name = m.name
        if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
            raise InputError(f"{where}: unsafe member {name!r} (absolute path); archive rejected")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in name.split("/"):
            raise InputError(f"{where}: unsafe member {name!r} ('..' in path); archive rejected")
        if m.issym() or m.islnk():
            raise InputError(f"{where}: unsafe member {name!r} (link to {m.linkname!r}); archive rejected")
        if not (m.isfile() or m.isdir()):
            raise InputError(f"{where}: unsafe member {name!r} (device, fifo or other special file); archive rejected")
        if not parts:
            raise InputError(f"{where}: member with an empty name; archive rejected")
        if top is None:
            top = parts[0]
        if parts[0] != top or (m.isfile() and len(parts) < 2):
            raise InputError(f"{where}: member {name!r} is outside the single top directory {top + '/'!r}; "
                             "archive rejected")
        if m.isdir():
            continue
        rel = "/".join(parts[1:])
        if rel in seen:
            raise InputError(f"{where}: member {name!r} appears twice; archive rejected")
        seen.add(rel)
        total += m.size
        if total > MAX_UNPACKED_BYTES:
            raise InputError(f"{where}: unpacked size exceeds {MAX_UNPACKED_BYTES} bytes; archive rejected")
        files.append(m)
    if top is None:
        raise InputError(f"{where}: empty archive, not a bundle")
    return top, files


def read_archive(path: Path) -> tuple[str, dict[str, bytes]]:
    """(top dir, {relative name: bytes}) of a bundle .tar.gz, after the safety checks."""
    try:
        with tarfile.open(path, mode="r:gz") as tf:
            top, members = _safe_members(tf, str(path))
            out = {}
            for m in members:
                fh = tf.extractfile(m)
                data = fh.read() if fh is not None else b""
                if len(data) != m.size:
                    raise InputError(f"{path}: member {m.name} is truncated ({len(data)} of {m.size} bytes)")
                out["/".join(p for p in m.name.split("/")[1:] if p not in ("", "."))] = data
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise InputError(f"{path} does not exist") from None
        raise InputError(f"{path} is not a readable .tar.gz bundle archive (truncated or corrupt: {exc})") from None
    return top, out


def _read_dir(path: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_symlink():
            raise InputError(f"{path}: {rel} is a symbolic link; a bundle directory holds regular files only")
        if p.is_file():
            out[rel] = p.read_bytes()
    return out


def _bundle_dir(path: Path) -> Path:
    """The directory holding manifest.json: path itself or its single subdirectory."""
    if (path / "manifest.json").is_file():
        return path
    subs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subs) == 1 and (subs[0] / "manifest.json").is_file():
        return subs[0]
    raise InputError(f"{path} is not a bundle directory (no manifest.json in it or in a single subdirectory)")


# ------------------------------------------------------------------------------ verify

@dataclass
class VerifyReport:
    """Outcome of verify(): ok when `problems` is empty."""

    path: str
    name: str | None = None
    version: str | None = None
    parameters_sha256: str | None = None
    files: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "name": self.name, "version": self.version,
                "parameters_sha256": self.parameters_sha256, "files": self.files, "problems": self.problems}


def _load_manifest(files: dict[str, bytes], where: str) -> dict:
    if "manifest.json" not in files:
        raise InputError(f"{where} is not a bundle (no manifest.json)")
    try:
        man = json.loads(files["manifest.json"])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(man, dict) or man.get("format") != MANIFEST_FORMAT or not isinstance(man.get("files"), dict):
        raise InputError(f"{where}: manifest.json is not an ectem bundle manifest (format {MANIFEST_FORMAT})")
    if man.get("manifest_version") != MANIFEST_VERSION:
        raise InputError(f"{where}: manifest_version {man.get('manifest_version')} is not supported "
                         f"(this ectem reads {MANIFEST_VERSION})")
    return man


def _verify_files(files: dict[str, bytes], where: str, top: str | None = None) -> VerifyReport:
    man = _load_manifest(files, where)
    rep = VerifyReport(path=where, name=man.get("name"), version=man.get("version"),
                       parameters_sha256=man.get("parameters_sha256"))
    bad = rep.problems.append
    for rel, entry in sorted(man["files"].items()):
        want = entry.get("sha256") if isinstance(entry, dict) else None
        if rel not in files:
            bad(f"{rel}: listed in the manifest but missing")
            continue
        got = _sha256_bytes(files[rel])
        rep.files[rel] = got
        if got != want:
            bad(f"{rel}: sha256 {got} does not match the manifest ({want})")
        elif isinstance(entry, dict) and entry.get("bytes") not in (None, len(files[rel])):
            bad(f"{rel}: {len(files[rel])} bytes, the manifest says {entry.get('bytes')}")
    for rel in sorted(set(files) - set(man["files"]) - {"manifest.json"}):
        bad(f"{rel}: not listed in the manifest")
    if top is not None and top != f"{man.get('name')}-{man.get('version')}":
        bad(f"top directory {top!r} is not '{man.get('name')}-{man.get('version')}'")
    if "bundle.json" not in man["files"]:
        bad("bundle.json is not listed in the manifest")
    if "bundle.json" not in files:
        return rep
    try:
        doc = json.loads(files["bundle.json"])
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        bad(f"bundle.json is not valid JSON ({exc})")
        return rep
    if doc.get("format") != BUNDLE_FORMAT or doc.get("schema_version") != BUNDLE_SCHEMA_VERSION:
        bad(f"bundle.json is not an ectem bundle of schema_version {BUNDLE_SCHEMA_VERSION} "
            f"(format {doc.get('format')!r}, schema_version {doc.get('schema_version')!r})")
    for key in ("name", "version", "schema_version", "parameters_sha256", "significant_digits"):
        if doc.get(key) != man.get(key):
            bad(f"manifest {key} {man.get(key)!r} differs from bundle.json's {doc.get(key)!r}")
    missing = [k for k in BODY_KEYS if k not in doc]
    if missing:
        bad(f"bundle.json lacks {', '.join(missing)}")
        return rep
    try:
        recomputed = bundle_parameters_digest(doc)
    except InputError as exc:
        bad(f"parameter digest cannot be computed: {exc}")
        return rep
    if recomputed != man.get("parameters_sha256"):
        bad(f"parameter digest recomputed from bundle.json ({recomputed}) does not match the manifest "
            f"({man.get('parameters_sha256')})")
    return rep


def verify(path) -> VerifyReport:
    """Check a packed bundle (.tar.gz) or an unpacked one (directory holding manifest.json, or
    its parent): every file's sha256 against the manifest, no unlisted files, manifest fields
    equal to bundle.json's, and the parameter digest recomputed from bundle.json. Problems are
    listed in the report; InputError when the input is unusable (missing, not a bundle)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist")
    if p.is_dir():
        d = _bundle_dir(p)
        return _verify_files(_read_dir(d), str(p))
    top, files = read_archive(p)
    return _verify_files(files, str(p), top)


# ------------------------------------------------------------------------------ pull

@dataclass
class PullResult:
    name: str
    version: str
    path: Path
    installed: bool            # False: the identical bundle was already in the store
    archive_sha256: str | None
    parameters_sha256: str
    url: str | None = None     # the archive URL an index reference resolved to (None: SOURCE itself)


def _split_pin(source: str) -> tuple[str, str | None]:
    if "#" not in source:
        return source, None
    base, frag = source.rsplit("#", 1)
    m = re.fullmatch(r"sha256=([0-9a-fA-F]{64})", frag)
    if not m:
        raise InputError(f"source pin '#{frag}' is not '#sha256=<64 hex digits>'")
    return base, m.group(1).lower()


def download(url: str, dest: Path, max_bytes: int = MAX_ARCHIVE_BYTES) -> None:
    """HTTP(S) GET into dest (at most max_bytes bytes, HTTP_TIMEOUT_S per read); InputError on
    HTTP errors, timeouts, oversized and truncated bodies."""
    req = urllib.request.Request(url, headers={"User-Agent": "ectem-bundle-pull"})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp, open(dest, "wb") as fh:
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            if expected is not None and expected > max_bytes:
                raise InputError(f"{url}: {expected} bytes exceeds the limit of {max_bytes} bytes")
            got = 0
            while True:
                try:
                    block = resp.read(_CHUNK)
                except http.client.IncompleteRead as exc:
                    got += len(exc.partial)
                    raise InputError(f"truncated download from {url}: got {got} of {expected} bytes "
                                     "(connection closed early); nothing installed") from None
                if not block:
                    break
                got += len(block)
                if got > max_bytes:
                    raise InputError(f"{url}: more than {max_bytes} bytes; download aborted")
                fh.write(block)
            if expected is not None and got != expected:
                raise InputError(f"truncated download from {url}: got {got} of {expected} bytes; nothing installed")
    except urllib.error.HTTPError as exc:
        raise InputError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InputError(f"download of {url} failed: {exc.reason}") from None
    except (socket.timeout, TimeoutError):
        raise InputError(f"download of {url} timed out after {HTTP_TIMEOUT_S:g} s") from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise InputError(f"download of {url} failed: {type(exc).__name__} {exc}") from None


def source_path(source: str) -> Path | None:
    """The local path a path or file:// source names; None for an http(s):// URL; InputError for
    other schemes and file:// URLs naming another host."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InputError(f"{source}: file:// URLs must name a local path (file:///path)")
        return Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise InputError(f"source {source!r}: unsupported scheme {parsed.scheme!r} (use a path, file://, http:// "
                         "or https://)")
    return Path(source).expanduser()


def _fetch(source: str, tmp: Path) -> Path:
    """A local archive copy inside tmp (or the bundle directory named by the source); InputError if unusable."""
    local = source_path(source)
    if local is None:
        dest = tmp / "download.tar.gz"
        download(source, dest)
        return dest
    if not local.exists():
        raise InputError(f"bundle source {local} does not exist")
    if local.is_dir():
        return local
    dest = tmp / "download.tar.gz"
    shutil.copyfile(local, dest)
    return dest


def _installed_files(path: Path) -> dict[str, str]:
    return {rel: _sha256_bytes(data) for rel, data in _read_dir(path).items()}


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(target, 0o644)


def is_index_reference(source: str) -> bool:
    """True when SOURCE is NAME or NAME@VERSION (optionally #sha256= pinned) and not an existing
    local path: `pull` then resolves it through a bundle index."""
    base = str(source).split("#", 1)[0]
    return bool(REFERENCE_RE.match(base)) and not Path(base).expanduser().exists()


def _through_index(base: str, pin: str | None, index) -> tuple:
    """(archive URL, sha256 the index states, index entry, what the sha256 is called in errors)."""
    # index builds on this module, so it is imported here
    from .index import index_location, load_index, locate

    where = index_location(index)
    if where is None:
        raise InputError(f"bundle source {base} does not exist; to pull NAME@VERSION by name give "
                         "--index URL_OR_PATH or set ECTEM_INDEX")
    try:
        entry = locate(load_index(where), base)
    except InputError as exc:
        if "@" in base:
            raise
        raise InputError(f"bundle source {base} is not a local path, and {exc}") from None
    if pin and pin != entry.archive_sha256:
        raise IntegrityError(f"{base}: the pin {pin} differs from the archive sha256 {entry.archive_sha256} "
                             f"that index {entry.index} states; not installed")
    return entry.url, entry.archive_sha256, entry, f"the sha256 {entry.archive_sha256} that index {entry.index} states"


def pull(source: str, dest=None, index=None) -> PullResult:
    """Fetch, check and install a packed bundle as STORE/{name}/{version}/ (atomic rename of a
    complete directory). SOURCE: local .tar.gz or bundle directory, file:// or http(s):// URL,
    optionally `#sha256=<hex>` pinning the archive's sha256; or NAME@VERSION / NAME (latest),
    looked up in the bundle index `index` (path or URL; default $ECTEM_INDEX) whose archive
    sha256, name, version and parameter digest the download must match. Any failure raises
    (InputError or IntegrityError) with the store unchanged; an identical installed bundle is a no-op."""
    base, pin = _split_pin(str(source))
    root = store_root(dest)
    entry, pin_label = None, f"the pin {pin}"
    if is_index_reference(base):
        base, pin, entry, pin_label = _through_index(base, pin, index)
    with tempfile.TemporaryDirectory(prefix="ectem-pull-") as tmpdir:
        local = _fetch(base, Path(tmpdir))
        archive_sha = None
        if local.is_dir():
            if pin:
                raise InputError(f"{base} is a directory: a #sha256= pin applies to an archive file")
            files = _read_dir(_bundle_dir(local))
            top = None
        else:
            h = hashlib.sha256()
            with open(local, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            archive_sha = h.hexdigest()
            if pin and archive_sha != pin:
                raise IntegrityError(f"{base}: archive sha256 {archive_sha} does not match {pin_label}; "
                                     "not installed")
            top, files = read_archive(local)
        rep = _verify_files(files, base, top)
        if not rep.ok:
            raise IntegrityError(f"{base} fails verification, not installed: " + "; ".join(rep.problems))
        if entry is not None:
            for key, have in (("name", rep.name), ("version", rep.version), ("parameters_sha256", rep.parameters_sha256)):
                if getattr(entry, key) is not None and getattr(entry, key) != have:
                    raise IntegrityError(f"{base}: the archive's {key} {have!r} differs from the {getattr(entry, key)!r} "
                                         f"that index {entry.index} states for {entry.name}@{entry.version}; "
                                         "not installed")
        name, version = _check_name(rep.name), check_version(rep.version)
        target = root / name / version
        new = {rel: _sha256_bytes(data) for rel, data in files.items()}
        if target.exists():
            if _installed_files(target) == new:
                return PullResult(name, version, target, False, archive_sha, rep.parameters_sha256,
                                  base if entry else None)
            raise InputError(f"{name}@{version} is already installed at {target} with different content: "
                             "remove that directory or pack the new bundle with another version")
        created = [p for p in (root, root / name) if not p.exists()]
        (root / name).mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.incoming-", dir=root / name))
        try:
            _write_tree(staging, files)
            os.chmod(staging, 0o755)
            os.rename(staging, target)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            for p in reversed(created):
                try:
                    p.rmdir()
                except OSError:
                    pass
            if isinstance(exc, OSError):
                raise InputError(f"cannot install {name}@{version} into {target}: {exc}") from None
            raise
    return PullResult(name, version, target, True, archive_sha, rep.parameters_sha256, base if entry else None)


# ------------------------------------------------------------------------------ list / resolve

def version_key(v: str):
    """Sort key of a version: X.Y.Z numerically, anything else after, as text."""
    try:
        return (0, tuple(int(x) for x in v.split(".")))
    except ValueError:
        return (1, v)


def list_bundles(store=None) -> list[dict]:
    """Installed bundles: [{name, version, parameters_sha256, path}] sorted by name and version
    (entries without a readable manifest are listed with parameters_sha256 None)."""
    root = store_root(store)
    out = []
    if not root.is_dir():
        return out
    for ndir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for vdir in sorted((p for p in ndir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                           key=lambda p: version_key(p.name)):
            try:
                man = json.loads((vdir / "manifest.json").read_text())
                digest = man.get("parameters_sha256") if isinstance(man, dict) else None
            except (OSError, ValueError):
                digest = None
            out.append({"name": ndir.name, "version": vdir.name, "parameters_sha256": digest, "path": str(vdir)})
    return out


def resolve(spec: str, store=None) -> Path:
    """Path of the installed bundle.json of `name@version`; InputError listing what is
    installed when it is not there."""
    if not isinstance(spec, str) or spec.count("@") != 1:
        raise InputError(f"bundle reference {spec!r} is not 'name@version' (e.g. small@0.1.0)")
    name, version = spec.split("@")
    _check_name(name)
    check_version(version, f"version in {spec!r}")
    root = store_root(store)
    path = root / name / version / "bundle.json"
    if not path.is_file():
        have = [f"{b['name']}@{b['version']}" for b in list_bundles(root)]
        listing = ", ".join(have) if have else "none"
        raise InputError(f"bundle {spec} is not installed in {root} (installed: {listing}); "
                         "install it with 'ectem bundle pull SOURCE'")
    return path
