"""The bundled sample directory (Contoso) and the generators behind it.

* :func:`generate_directory` - a deterministic, realistic directory as LDIF, streamed to disk.
* :func:`generate_churn` - seeded creates, deletes, modifies, moves and membership changes
  applied to a file directory (content file + changelog) through ``apply_changes``.
* :func:`sample_path` - the bundled ``contoso.ldif`` (1,000 users, 100 groups).
"""

from __future__ import annotations

from importlib import resources

from idsync.sample.churn import ChurnSummary, generate_churn
from idsync.sample.generator import BASE_DN, DirectorySummary, generate_directory

#: How the bundled sample was made: ``generate_directory(path, **BUNDLED_SAMPLE)``.
BUNDLED_SAMPLE = {"users": 1000, "groups": 100, "seed": 1}

__all__ = ["BASE_DN", "BUNDLED_SAMPLE", "ChurnSummary", "DirectorySummary", "generate_churn",
           "generate_directory", "sample_path"]


def sample_path() -> str:
    """The path of the bundled sample directory (read-only; copy it before changing it)."""
    return str(resources.files("idsync.sample").joinpath("contoso.ldif"))
