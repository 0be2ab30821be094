"""`python -m ectem_core.cli` runs the `ectem` command."""
import sys

from . import main

sys.exit(main())
