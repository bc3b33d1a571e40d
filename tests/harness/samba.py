"""pytest fixture around ``idsync.testing.samba``: a throwaway Samba AD DC on 127.0.0.1:389.

Session scoped (provision + start takes ~7 s on an idle machine). Mark tests using it with
``pytest.mark.samba`` and ``pytest.mark.xdist_group("samba")`` so one xdist worker owns port
389; a lock file also serialises concurrent test runs on one host. Skipped, with the reason,
where Samba cannot run (not root, packages missing).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idsync.testing.samba import SambaDC, samba_available

__all__ = ["SambaDC", "samba_dc"]


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    reason = samba_available()
    if reason:
        pytest.skip(reason)
    dc = SambaDC(workdir=str(tmp_path_factory.mktemp("samba")))
    dc.start()
    yield dc
    dc.close()
