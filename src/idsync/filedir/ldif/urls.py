"""URL values (``attr:< URL``, RFC 2849): refused unless a directory is named for ``file:`` URLs.

An LDIF file that names ``description:< file:///etc/shadow`` would otherwise copy any file the
idsync process can read into the connected directories (and on to the cloud). So a URL value is
refused by default, whatever its scheme; ``allow_file_urls_under`` names the one directory whose
files ``file:`` URLs may read. Symlinks and ``..`` are resolved before the check, and only
regular files are read (a FIFO would block the import, a device would never end).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from idsync.filedir.ldif.records import LdifError

#: The file connector setting that allows ``file:`` URL values under one directory.
ALLOW_FILE_URLS_SETTING = "allow_file_urls_under"


class UrlValueRefused(LdifError):
    """A URL value that is not read (refused by default, or outside the allowed directory)."""


def check_url_root(value: object) -> str:
    """The setting's value as the directory it names (symlinks resolved). Raises ValueError
    with the reason when it is not an absolute path to an existing directory."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{ALLOW_FILE_URLS_SETTING} must be the absolute path of a directory")
    if not os.path.isabs(value):
        raise ValueError(f"{ALLOW_FILE_URLS_SETTING} must be an absolute path, got {value!r}")
    if not os.path.isdir(value):
        raise ValueError(f"{ALLOW_FILE_URLS_SETTING}: {value} is not an existing directory")
    return os.path.realpath(value)


def url_root_setting(settings: Mapping[str, Any]) -> str | None:
    """The directory a connector's settings allow ``file:`` URLs under (None: none)."""
    value = settings.get(ALLOW_FILE_URLS_SETTING)
    return None if value is None else check_url_root(value)


def read_url_value(attribute: str, url_bytes: bytes, root: str | None, line: int,
                   offset: int) -> bytes:
    """The bytes a URL value names, when ``root`` allows it; else LdifError naming the
    attribute and the URL."""
    url = url_bytes.decode("utf-8", errors="backslashreplace").strip()
    # Control characters (NUL...) shown escaped: the message goes to the run history.
    shown = f"{attribute}:< " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in url)
    if root is None:
        raise UrlValueRefused(f"{shown}: URL values are not read (set the file connector's "
                        f"{ALLOW_FILE_URLS_SETTING} to a directory to read file: URLs "
                        "from it)", line, offset)
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise UrlValueRefused(f"{shown}: only file: URLs are read, and only under {root}",
                        line, offset)
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment \
            or not os.path.isabs(path):
        raise UrlValueRefused(f"{shown}: not a local absolute file: URL", line, offset)
    resolved = os.path.realpath(path)
    if os.path.commonpath([resolved, root]) != root:
        raise UrlValueRefused(f"{shown}: the file is not under {root} "
                        f"({ALLOW_FILE_URLS_SETTING}); it was not read", line, offset)
    return _read_regular(resolved, shown, line, offset)


def _read_regular(path: str, shown: str, line: int, offset: int) -> bytes:
    try:
        # O_NOFOLLOW: the path was resolved above; a symlink put there since is refused.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise UrlValueRefused(f"{shown}: cannot read it: {exc.strerror}", line, offset) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UrlValueRefused(f"{shown}: not a regular file; it was not read", line, offset)
        return handle.read()
