"""`ectem bundle pack|verify|pull|list|resolve`: versioned parameter bundles (docs/bundles.md).

Exit codes: 0 success; 1 a bundle fails verification (digest or pin mismatch), one line per
problem; 2 unusable input (missing file, not a bundle, unsafe archive, download error).
"""
from __future__ import annotations

import json
import sys

EXIT_PROBLEMS = 1


def register(sub) -> None:
    p = sub.add_parser("bundle", help="pack, verify, pull and list versioned parameter bundles",
                       description="Versioned parameter bundles: NAME-X.Y.Z.tar.gz archives with a sha256 "
                                   "manifest, and the local store STORE/NAME/X.Y.Z/ (docs/bundles.md).")
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

    pl = bsub.add_parser("pull", help="fetch, verify and install a bundle into the local store",
                         description="SOURCE: path, file:// or http(s):// URL of NAME-X.Y.Z.tar.gz, optionally "
                                     "pinned as SOURCE#sha256=<hex of the archive>.")
    pl.add_argument("source", metavar="SOURCE")
    pl.add_argument("--dest", default=None, metavar="DIR",
                    help="store directory (default $ECTEM_STORE, $XDG_DATA_HOME/ectem/bundles, "
                         "~/.local/share/ectem/bundles)")
    pl.set_defaults(func=_cmd_pull)

    ls = bsub.add_parser("list", help="installed bundles: name, version, parameter digest, path")
    ls.add_argument("--store", default=None, metavar="DIR", help="store directory (default as for pull)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=_cmd_list)

    rs = bsub.add_parser("resolve", help="print the bundle.json path of NAME@VERSION in the store")
    rs.add_argument("spec", metavar="NAME@VERSION")
    rs.add_argument("--store", default=None, metavar="DIR")
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
        res = pull(args.source, dest=args.dest)
    except IntegrityError as exc:
        return _problem(str(exc))
    what = "installed" if res.installed else "already installed (identical), nothing changed:"
    print(f"{what} {res.name}@{res.version} at {res.path}")
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
