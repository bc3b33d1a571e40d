"""pytest fixtures around ``idsync.lab.slapd``: a real, private slapd on 127.0.0.1.

Use in a conftest.py: ``from tests.harness.slapd import slapd, slapd_tls  # noqa: F401``
or ``pytest_plugins = ["tests.harness.slapd"]``.

* ``slapd``: a fresh server per test (starts in well under 0.1 s), with the suffix, ou=People
  and ou=Groups, overlays memberof, syncprov and accesslog. Attributes: ``uri``, ``base_dn``,
  ``bind_dn``, ``password``, ``connector_settings()``, helpers ``add/modify/rename/delete/search``.
* ``slapd_tls``: the same with StartTLS on ``uri`` and ``ldaps_uri``, certificates from a
  throwaway CA in ``ca_file``.
* ``slapd_factory``: build servers with other shapes (``slapd_factory(tls=True, ldif=...)``).
* ``slapd_session``: one server for the whole session (per xdist worker) with TLS; tests that
  share it must create their own uniquely named entries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from idsync.lab.slapd import SlapdConfig, SlapdServer, slapd_available

__all__ = ["SlapdServer", "slapd", "slapd_factory", "slapd_session", "slapd_tls"]

# Outside CI a machine without slapd skips these tests; in CI (which installs slapd) a missing
# slapd must fail them rather than hide them.
needs_slapd = pytest.mark.skipif(not slapd_available() and not os.environ.get("CI"),
                                 reason="slapd is not installed")


@pytest.fixture
def slapd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SlapdServer]]:
    servers: list[SlapdServer] = []

    def make(ldif: str | None = None, start: bool = True, **config: Any) -> SlapdServer:
        server = SlapdServer(SlapdConfig(**config),
                             workdir=str(tmp_path_factory.mktemp("slapd")))
        server.init()
        if ldif:
            server.slapadd_text(ldif)
        if start:
            server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def slapd(slapd_factory: Callable[..., SlapdServer]) -> SlapdServer:
    return slapd_factory()


@pytest.fixture
def slapd_tls(slapd_factory: Callable[..., SlapdServer]) -> SlapdServer:
    return slapd_factory(tls=True)


@pytest.fixture(scope="session")
def slapd_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    server = SlapdServer(SlapdConfig(tls=True), workdir=str(tmp_path_factory.mktemp("slapd-s")))
    server.start()
    yield server
    server.close()
