"""Owner-only files and folders: the workspace (0700) and what it holds (0600).

Modes are set when a file is created, with ``os.open`` and an explicit ``chmod``, so a loose
umask (022 gives 0644) never leaves a database, key or backup readable by other users.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; the folder itself gets 0700 when this
    call creates it (a folder the operator made is left as it is)."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing; tighten an existing file of ours to
    0600 (an older workspace's database was created 0644).

    An existing file is changed by path, never opened: closing any descriptor of a SQLite file
    drops every POSIX lock this process holds on it, those of its open connections included."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return path
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def tighten(path: Path) -> None:
    """Mode 0600 on an existing file (SQLite's -wal and -shm files); a file someone else owns
    is left alone."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        path.chmod(FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data`` (0600): a temporary file beside it, flushed
    to disk, then renamed over it, so a crash leaves either the old or the new content."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
