"""The cloud connector's wire models: the watermark's stored form and the parsed answers."""

from __future__ import annotations

from idsync.connectors.cloud.messages import ChangeResult, CloudWatermark, ImportPage


def test_watermark_keeps_its_stored_form() -> None:
    stored = {"api_version": 2, "token": "41"}
    watermark = CloudWatermark.from_stored(stored)
    assert watermark == CloudWatermark("41", 2)
    assert watermark.to_stored() == stored
    assert list(watermark.to_stored()) == ["api_version", "token"]


def test_watermark_without_token_is_none() -> None:
    assert CloudWatermark.from_stored(None) is None
    assert CloudWatermark.from_stored({}) is None
    assert CloudWatermark.from_stored({"api_version": 1}) is None
    assert CloudWatermark.from_stored({"token": 7}) == CloudWatermark("7", None)


def test_import_page_reads_the_token_of_its_version() -> None:
    last = ImportPage.from_json({"objects": [], "more": False, "next": None,
                                 "watermark": "9"}, 1)
    assert (last.more, last.token, last.next) == (False, "9", None)
    more = ImportPage.from_json({"changes": [{"op": "delete", "id": "x"}], "more": True,
                                 "next": "c", "delta_token": None}, 2)
    assert (more.more, more.next, more.entries[0].id) == (True, "c", "x")


def test_change_result_tolerates_missing_fields() -> None:
    result = ChangeResult.from_json({"status": "ok", "id": "a"})
    assert result == ChangeResult("ok", "a", None, [], [])
