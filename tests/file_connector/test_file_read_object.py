"""The file connector reads one object (ObjectReader, for preview one object) as a full
import reads it, with the export journal's changes included, whether the content file is
rewritten on every export or keeps a journal and an index."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.file_connector.test_file_journal import (
    GROUP_DN,
    USERS_OU,
    base_ldif,
    connector,
    full_import,
)

from idsync.connectors.base import ExportChange, ExportRef, ImportContext
from idsync.filedir.dn import normalize_dn
from idsync.model import ExportKind


@pytest.mark.parametrize("journal", [True, False], ids=["journal", "rewrite"])
def test_read_object_equals_the_full_import_of_that_object(tmp_path: Path,
                                                           journal: bool) -> None:
    path = tmp_path / "directory.ldif"
    path.write_text(base_ldif(6))
    made = connector(path, journal=journal)
    renamed = f"uid=moved,{USERS_OU}"
    results = list(made.export([
        ExportChange(1, ExportKind.MODIFY, f"uid=u1,{USERS_OU}", "user",
                     attributes={"title": ["Chief"]}),
        ExportChange(2, ExportKind.RENAME, f"uid=u2,{USERS_OU}", "user", new_dn=renamed),
        ExportChange(3, ExportKind.DELETE, f"uid=u3,{USERS_OU}", "user"),
        ExportChange(4, ExportKind.MODIFY, GROUP_DN, "group",
                     value_adds={"member": [ExportRef(f"uid=u1,{USERS_OU}")]}),
    ]))
    assert all(r.ok for r in results)
    assert path.with_suffix(".ldif.journal").exists() == journal
    assert path.with_suffix(".ldif.index").exists() == journal  # read at its place
    whole = full_import(made)
    context = ImportContext(None)
    for dn in (f"uid=u1,{USERS_OU}", renamed, GROUP_DN, f"uid=u0,{USERS_OU}"):
        record = made.read_object(dn, None, context)
        assert record is not None
        attributes = {k.lower(): sorted(map(str, v)) for k, v in record.attributes.items()}
        assert (record.dn, record.anchor, record.object_type, attributes) == \
            whole[normalize_dn(dn)]
    assert made.read_object(f"uid=u3,{USERS_OU}", None, context) is None  # deleted
    assert made.read_object(f"uid=u2,{USERS_OU}", None, context) is None  # renamed away
    assert made.read_object(USERS_OU, None, context) is None  # an OU: not a synced object
    # Reading changed nothing the full import sees.
    assert full_import(made) == whole
