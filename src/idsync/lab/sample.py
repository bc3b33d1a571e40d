"""A started slapd holding generated sample data, for the demo and quick experiments: the one
place that puts the data generator (``idsync.lab.ldapdata``) and the server together."""

from __future__ import annotations

from idsync.lab.ldapdata import DirectoryShape, generate
from idsync.lab.slapd import SlapdConfig, SlapdServer


def sample_directory(users: int = 200, groups: int = 10, big_group: int = 0,
                     tls: bool = False, workdir: str | None = None) -> SlapdServer:
    """A started slapd holding generated sample data (``idsync.lab.ldapdata``); for the
    demo and quick experiments. Call ``close()`` when done."""
    server = SlapdServer(SlapdConfig(tls=tls), workdir=workdir)
    server.init()
    shape = DirectoryShape(suffix=server.base_dn, users=users, groups=groups,
                           big_group=big_group)
    path = server.dir / "sample.ldif"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(generate(shape))
    server.slapadd(path)
    path.unlink()
    server.start()
    return server
