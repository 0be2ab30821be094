"""`ectem bundle pack|verify|publish|search|pull|list|resolve`: versioned parameter bundles and
the bundle index (docs/bundles.md).

Exit codes: 0 success; 1 a bundle fails verification (digest, pin or index sha256 mismatch),
one line per problem; 2 unusable input (missing file, not a bundle, unsafe archive, download
error, malformed index, unknown name or version, a different archive under a published version).
"""
from __future__ import annotations

import json
import sys

EXIT_PROBLEMS = 1
INDEX_HELP = ("bundle index: directory or index.json path, file:// or http(s):// URL (a URL not ending in .json "
              "names a directory); default $ECTEM_INDEX")


def register(sub) -> None:
    p = sub.add_parser("bundle", help="pack, verify, publish, search, pull and list versioned parameter bundles",
                       description="Versioned parameter bundles: NAME-X.Y.Z.tar.gz archives with a sha256 "
                                   "manifest, a static index.json to find them by name, and the local store "
                                   "STORE/NAME/X.Y.Z/ (docs/bundles.md).")
    from .common import Parser  # one-line usage errors, exit code 2

    bsub = p.add_subparsers(dest="bundle_command", metavar="ACTION", parser_class=Parser)
    bsub.required = True

    pk = bsub.add_parser("pack", help="write OUT/NAME-VERSION.tar.gz from a bundle JSON",
                         description="Deterministic archive (same inputs -> same bytes) with bundle.json, "
                                     "manifest.json (sha256 of every file), README.md and extra files.")
    pk.add_argument("bundle_json", metavar="BUNDLE_JSON", help="bundle document, e.g. results/bundle/H-Li-F.json")
    pk.add_argument("--out", required=True, metavar="DIR", help="directory for the archive")
    pk.add_argument("--version", default=None, metavar="X.Y.Z", help="semantic version (default: the bundle's own)")
    pk.add_argument("--add", action="append", default=[], metavar="NAME=PATH",
                    help="extra file stored as NAME in the archive, e.g. report/H-Li-F.html=results/report/H-Li-F.html")
    pk.set_defaults(func=_cmd_pack)

    vf = bsub.add_parser("verify", help="check every digest of a packed or unpacked bundle",
                         description="Exit 0 only if every file digest and the parameter digest recomputed from "
                                     "bundle.json match the manifest; otherwise exit 1, one line per problem.")
    vf.add_argument("path", metavar="PATH", help="NAME-X.Y.Z.tar.gz or an unpacked bundle directory")
    vf.add_argument("--json", action="store_true", help="print the report as one JSON object")
    vf.set_defaults(func=_cmd_verify)

    pb = bsub.add_parser("publish", help="add a packed bundle to a bundle index directory (index.json)",
                         description="Verify ARCHIVE, copy it into DIR as NAME-X.Y.Z.tar.gz and add its entry "
                                     "(name, version, url, archive sha256, elements, levels, date) to DIR/index.json. "
                                     "Serve or upload DIR as it is. Re-publishing the identical archive changes "
                                     "nothing; a different archive under a published NAME@VERSION is refused.")
    pb.add_argument("archive", metavar="ARCHIVE", help="NAME-X.Y.Z.tar.gz written by 'ectem bundle pack'")
    pb.add_argument("--index", required=True, metavar="DIR",
                    help="index directory (created if missing) or path of its index.json")
    pb.add_argument("--base-url", default=None, metavar="URL",
                    help="record the archive as URL/NAME-X.Y.Z.tar.gz (default: relative to index.json)")
    pb.set_defaults(func=_cmd_publish)

    sr = bsub.add_parser("search", help="list the bundles of an index: name, version, elements, levels, date",
                         description="Bundles listed by a bundle index, every version, sorted by name and version.")
    sr.add_argument("pattern", nargs="?", default=None, metavar="PATTERN",
                    help="name substring or glob (*, ?), case-insensitive; default: all")
    sr.add_argument("--element", default=None, metavar="EL", help="only bundles that contain element EL, e.g. Li")
    sr.add_argument("--index", default=None, metavar="URL_OR_PATH", help=INDEX_HELP)
    sr.add_argument("--json", action="store_true", help="print a JSON array of the index entries (with archive_url)")
    sr.set_defaults(func=_cmd_search)

    pl = bsub.add_parser("pull", help="fetch, verify and install a bundle into the local store",
                         description="SOURCE: path, file:// or http(s):// URL of NAME-X.Y.Z.tar.gz, optionally "
                                     "pinned as SOURCE#sha256=<hex of the archive>; or NAME@X.Y.Z, or NAME for "
                                     "its latest version, looked up in a bundle index (--index or $ECTEM_INDEX), "
                                     "whose archive sha256 the download must match. A SOURCE that exists as a "
                                     "local path is always that path.")
    pl.add_argument("source", metavar="SOURCE")
    pl.add_argument("--dest", default=None, metavar="DIR",
                    help="store directory (default $ECTEM_STORE, $XDG_DATA_HOME/ectem/bundles, "
                         "~/.local/share/ectem/bundles)")
    pl.add_argument("--index", default=None, metavar="URL_OR_PATH",
                    help=INDEX_HELP + "; used only for a NAME[@VERSION] SOURCE")
    pl.set_defaults(func=_cmd_pull)

    ls = bsub.add_parser("list", help="installed bundles: name, version, parameter digest, path")
    ls.add_argument("--store", default=None, metavar="DIR", help="store directory (default as for pull)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=_cmd_list)

    rs = bsub.add_parser("resolve", help="print the bundle.json path of NAME@VERSION in the store")
    rs.add_argument("spec", metavar="NAME@VERSION")
    rs.add_argument("--store", default=None, metavar="DIR", help="store directory (default as for pull)")
    rs.set_defaults(func=_cmd_resolve)


def _problem(message: str) -> int:
    sys.stderr.write(f"ectem: error: {message}\n")
    return EXIT_PROBLEMS


def _cmd_pack(args) -> int:
    from ..deliver.store import IntegrityError, pack_bundle
    from ..errors import InputError
    from ..io import file_sha256

    extra = {}
    for item in args.add:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--add {item!r} is not NAME=PATH (e.g. report/H-Li-F.html=results/report/H-Li-F.html)")
        if name in extra:
            raise InputError(f"--add names {name!r} twice")
        extra[name] = path
    try:
        out = pack_bundle(args.bundle_json, args.out, version=args.version, extra_files=extra)
    except IntegrityError as exc:
        return _problem(str(exc))
    print(f"{out}  sha256={file_sha256(out)}")
    return 0


def _cmd_verify(args) -> int:
    from ..deliver.store import verify

    rep = verify(args.path)
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2))
    if rep.ok:
        if not args.json:
            print(f"{rep.path}: OK {rep.name}@{rep.version} ({len(rep.files)} files, "
                  f"parameters {rep.parameters_sha256})")
        return 0
    for line in rep.problems:
        sys.stderr.write(f"{rep.path}: {line}\n")
    return EXIT_PROBLEMS


def _cmd_pull(args) -> int:
    from ..deliver.store import IntegrityError, pull

    try:
        res = pull(args.source, dest=args.dest, index=args.index)
    except IntegrityError as exc:
        return _problem(str(exc))
    what = "installed" if res.installed else "already installed (identical), nothing changed:"
    print(f"{what} {res.name}@{res.version} at {res.path}" + (f" (from {res.url})" if res.url else ""))
    return 0


def _cmd_publish(args) -> int:
    from ..deliver.index import publish
    from ..deliver.store import IntegrityError

    try:
        res = publish(args.archive, args.index, base_url=args.base_url)
    except IntegrityError as exc:
        return _problem(str(exc))
    e = res.entry
    what = "published" if res.changed else "already published (identical), index unchanged:"
    print(f"{what} {e['name']}@{e['version']} in {res.index_path}: url {e['url']}  sha256={e['archive_sha256']}")
    return 0


def _levels_text(levels) -> str:
    """'energy=ccsd(t)/aug-cc-pvdz density=...' from the bundle's levels (method/basis when present)."""
    parts = []
    for role, level in (levels or {}).items():
        if isinstance(level, dict) and "method" in level:
            parts.append(f"{role}={level['method']}" + (f"/{level['basis']}" if level.get("basis") else ""))
        elif level is not None:
            parts.append(f"{role}={level}")
    return " ".join(parts) or "-"


def _cmd_search(args) -> int:
    from ..deliver.index import index_location, load_index, search
    from ..errors import InputError

    where = index_location(args.index)
    if where is None:
        raise InputError("no bundle index: give --index URL_OR_PATH or set ECTEM_INDEX")
    rows = search(load_index(where), args.pattern, args.element)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no bundles in {where} match" if args.pattern or args.element else f"no bundles in {where}")
        return 0
    table = [("NAME", "VERSION", "ELEMENTS", "LEVELS", "DATE", "SHA256")]
    table += [(r["name"], r["version"], ",".join(r.get("elements", [])) or "-", _levels_text(r.get("levels")),
               (r.get("created_utc") or "-")[:10], r["archive_sha256"][:12]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def _cmd_list(args) -> int:
    from ..deliver.store import list_bundles, store_root

    rows = list_bundles(args.store)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no bundles installed in {store_root(args.store)}")
        return 0
    w = max(len(f"{r['name']}@{r['version']}") for r in rows)
    for r in rows:
        print(f"{r['name'] + '@' + r['version']:<{w}s}  {r['parameters_sha256'] or '(no manifest)':<64s}  {r['path']}")
    return 0


def _cmd_resolve(args) -> int:
    from ..deliver.store import resolve

    print(resolve(args.spec, args.store))
    return 0
