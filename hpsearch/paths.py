"""Paths as a user reads them."""

from __future__ import annotations

import os
from pathlib import Path


def shown(path: Path | str) -> str:
    """A path as a user would type it: relative to the working directory when inside it
    (hpsearch keeps run directories as absolute paths; messages need not be long)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative
