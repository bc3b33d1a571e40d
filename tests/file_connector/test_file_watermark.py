"""The file connector's typed watermark stores ``{"offset": N}``, as before."""

from __future__ import annotations

from idsync.connectors.file.watermark import FileWatermark


def test_offset_round_trips_and_defaults_to_the_start() -> None:
    assert FileWatermark.from_dict({"offset": 512}).to_dict() == {"offset": 512}
    assert FileWatermark.from_dict(None) == FileWatermark(0)
    assert FileWatermark.from_dict({}) == FileWatermark(0)
