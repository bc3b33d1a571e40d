"""DN handling of the file directory: the project's one implementation, ``idsync.dn``."""

from idsync.dn import (
    _normalize_rdn,
    _split_unescaped,
    _strip,
    _unescape,
    escape_rdn_value,
    normalize_dn,
    parent_dn,
    rdn_of,
    rdn_values,
    split_dn,
)

__all__ = [
    "_normalize_rdn",
    "_split_unescaped",
    "_strip",
    "_unescape",
    "escape_rdn_value",
    "normalize_dn",
    "parent_dn",
    "rdn_of",
    "rdn_values",
    "split_dn",
]
