"""What every `ectem` command shares: argparse that reports a usage error as one line and exit
code 2, and the one-line error message."""
from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump) and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"ectem: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def fail(message: str) -> int:
    """Print `ectem: error: message` on stderr; return the usage exit code."""
    sys.stderr.write(f"ectem: error: {message}\n")
    return EXIT_USAGE
