"""The `ectem` command line. Stable contracts: subcommand names, flags and JSON fields are
extended, never renamed. Bad input: one error line on stderr, exit code 2.

Every command is one module of this package with a `register(subparsers)` function, listed
in COMMANDS (an explicit registry: a command that fails to import breaks `ectem`, it never
silently disappears; tests/unit/cli checks that `ectem --help` lists each of them).
"""
from __future__ import annotations

import importlib
import sys

from ..errors import EctemError
from .common import EXIT_USAGE, Parser, fail

COMMANDS = ("atom", "fit", "embed", "scan", "bundle", "export", "report", "crosscheck", "crystal", "tune")

__all__ = ["COMMANDS", "EXIT_USAGE", "Parser", "build_parser", "main"]


def build_parser() -> Parser:
    from .. import __version__

    parser = Parser(prog="ectem", description="ECT-EAM potentials from isolated-atom quantum chemistry. "
                    "The full pipeline runs with Snakemake (see README); these commands run single steps.")
    parser.add_argument("--version", action="version", version=f"ectem {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EctemError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # output piped into e.g. `head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
