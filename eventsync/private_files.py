"""Folders and files only their owner may read: the dev stack's state folder (Temporal's
database, the event store, the payload key) and key files.

A key file anyone on the machine can read decrypts every payload, so a loose mode is fixed on
sight, with a warning that says what was found (a fix that fails is only the warning)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("eventsync.private_files")

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, want: int) -> str | None:
    """Clear group and other bits of `path`; a line saying what was changed (or could not be)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return None
    try:
        os.chmod(path, mode & ~0o077 & 0o777 | (want & 0o700))
    except OSError as err:
        message = (
            f"{path} is mode {mode:o}, readable by others; could not change it to {want:o}: {err.strerror}"
        )
    else:
        message = f"{path} was mode {mode:o}, readable by others; changed it to {want:o}"
    log.warning(message)
    return message


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner can enter (created so, or tightened)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> str | None:
    """Tighten an existing file to owner-only; the warning, if its mode was loose."""
    return _tighten(path, FILE_MODE)
