"""The one plot setup of ectem: matplotlib on the Agg backend (no display needed), figures
written atomically as PNG files or returned as PNG bytes (for the self-contained report)."""
from __future__ import annotations

import io as _stdio

from .io import write_bytes


def pyplot():
    """matplotlib.pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buf = _stdio.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot().close(fig)
    return buf.getvalue()


def save_png(fig, path, dpi: int = 110) -> None:
    """Write the figure to `path` atomically (never a half-written PNG); the figure is closed."""
    write_bytes(path, png_bytes(fig, dpi))
