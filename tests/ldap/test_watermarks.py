"""The change detectors' typed watermarks store the dicts earlier releases stored, key order
included, and read the old ones back with the same defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from idsync.connectors.ldap.change_detection.watermarks import (
    AccesslogWatermark,
    DirSyncWatermark,
    ModifyTimestampWatermark,
    SyncreplWatermark,
    UsnWatermark,
)

STORED: list[tuple[Any, dict[str, Any]]] = [
    (SyncreplWatermark, {"strategy": "syncrepl",
                         "cookies": {"dc=example,dc=com": "rid=000,csn=20261203"}}),
    (AccesslogWatermark, {"strategy": "accesslog", "req_start": "20261203101010.000004Z"}),
    (DirSyncWatermark, {"strategy": "dirsync", "cookies": {"DC=corp,DC=test": "TVNEUw=="}}),
    (UsnWatermark, {"strategy": "usn", "usn": 41213}),
    (ModifyTimestampWatermark, {"strategy": "modify_timestamp",
                                "timestamp": "20261203101010Z"}),
]


@pytest.mark.parametrize(("kind", "stored"), STORED, ids=[s["strategy"] for _, s in STORED])
def test_stored_form_round_trips_byte_for_byte(kind: Any, stored: dict[str, Any]) -> None:
    typed = kind.from_dict(stored)
    assert json.dumps(typed.to_dict()) == json.dumps(stored)
    assert kind.strategy == stored["strategy"]


def test_missing_fields_read_as_the_detectors_always_read_them() -> None:
    assert SyncreplWatermark.from_dict({"strategy": "syncrepl"}).cookies == {}
    assert DirSyncWatermark.from_dict({"strategy": "dirsync", "cookies": None}).cookies == {}
    assert AccesslogWatermark.from_dict({}).req_start == "19700101000000.000000Z"
    assert UsnWatermark.from_dict({}).usn == 0
    assert UsnWatermark.from_dict({"usn": "12"}).usn == 12
    assert ModifyTimestampWatermark.from_dict({"timestamp": ""}).timestamp == "19700101000000Z"


def test_watermarks_are_frozen() -> None:
    mark = UsnWatermark(5)
    with pytest.raises(AttributeError):
        mark.usn = 6  # type: ignore[misc]
