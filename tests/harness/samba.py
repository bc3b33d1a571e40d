"""pytest fixture around ``idsync.lab.samba``: a throwaway Samba AD DC on 127.0.0.1:389.

Session scoped and shared by every xdist worker of the run (Samba can only listen on port
389, so there is one per host): the first worker provisions and starts it (~7 s idle), the
last one stops it. Tests make their own OU and objects in it. Mark them
``pytest.mark.samba``. Skipped, with the reason, where Samba cannot run (not root, packages
missing).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from idsync.lab.samba import SambaDC, acquire_shared, release_shared, samba_available

__all__ = ["SambaDC", "samba_dc"]


@pytest.fixture(scope="session")
def samba_dc() -> Iterator[SambaDC]:
    reason = samba_available()
    if reason:
        # CI installs Samba and runs as root: there a missing DC is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"Samba AD DC unavailable in CI: {reason}")
        pytest.skip(reason)
    dc = acquire_shared()
    yield dc
    release_shared(dc)
