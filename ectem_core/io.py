"""The one place files are written: atomic writes (temp file + rename, usual permissions),
JSON/CSV/npz with one float format, canonical hashing and provenance records.

Float format of every table: `format_value` — the shortest text that reads back to the same
binary double (Python's repr), empty for None, NaN and ±inf."""
from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import hashlib
import io as _stdio
import json
import os
import socket
import tempfile
from pathlib import Path

import numpy as np

from .errors import InputError


def _default(obj):
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serializable: {type(obj).__name__}")


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=_default, allow_nan=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` (same directory, the permissions a normal file would
    get); on success it is renamed onto `path`, on any error it is removed and `path` is left
    as it was. Nest two of these to make two files appear together."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _atomic(path: Path, write) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())


def write_text(path, text: str) -> None:
    """Write UTF-8 text atomically (temp file + rename)."""
    _atomic(Path(path), lambda fh: fh.write(text.encode("utf-8")))


def write_bytes(path, data: bytes) -> None:
    """Write bytes atomically (temp file + rename)."""
    _atomic(Path(path), lambda fh: fh.write(data))


def write_json(path, obj) -> None:
    """Write JSON atomically (temp file + rename): a crash never leaves half a file."""
    text = dumps(obj) + "\n"
    _atomic(Path(path), lambda fh: fh.write(text.encode()))


def write_npz(path, **arrays) -> None:
    """Write an .npz atomically."""
    _atomic(Path(path), lambda fh: np.savez(fh, **arrays))


def format_value(x) -> str:
    """One table cell: repr of a finite float (round-trips exactly), '' for None/NaN/inf, str otherwise."""
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x)) if np.isfinite(x) else ""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return str(x)


def csv_text(header, rows) -> str:
    """CSV text ('\\n' line ends): a header row, then rows given as sequences (in header order)
    or as dicts keyed by the header; every cell through `format_value`."""
    buf = _stdio.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(header))
    for row in rows:
        cells = [row.get(k) for k in header] if isinstance(row, dict) else row
        w.writerow([format_value(x) for x in cells])
    return buf.getvalue()


def write_csv(path, header, rows) -> None:
    """Write a CSV table atomically (see `csv_text`)."""
    write_text(path, csv_text(header, rows))


def read_json(path, what: str = "JSON file") -> dict:
    """Read a JSON object; InputError naming the file when missing or malformed."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError(f"{what} {p} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {p} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{what} {p} does not hold a JSON object")
    return data


def canonical_hash(obj) -> str:
    """sha256 of the canonical (sorted-key, compact) JSON of obj."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def provenance() -> dict:
    return {"host": socket.gethostname(),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def read_record(path, what: str, required, hint: str) -> dict:
    """A JSON record that must hold the `required` keys; InputError naming the file, what it
    is not, the missing keys and `hint` (which file to pass) otherwise."""
    p = Path(path)
    rec = read_json(p, what)
    missing = [k for k in required if k not in rec]
    if missing:
        raise InputError(f"{p} is not a {what} (missing {', '.join(missing)}); {hint}")
    return rec
