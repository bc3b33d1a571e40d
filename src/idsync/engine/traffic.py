"""A run's traffic on its connector for the run history: requests and bytes sent and received
(``idsync.connectors.traffic``). Network connectors count as they go and the run takes the
difference; a file connector's files are measured before and after the run."""

from __future__ import annotations

from idsync.connectors.base import Connector
from idsync.connectors.file import traffic as file_traffic
from idsync.connectors.traffic import Traffic, TrafficMeter
from idsync.engine.core import RunContext
from idsync.model import ConnectorRecord, RunProfile


class RunTraffic:
    def __init__(self, engine: RunContext, record: ConnectorRecord, profile: RunProfile) -> None:
        self.engine = engine
        self.record = record
        self.profile = profile
        instance = self._instance()
        self.start = instance.traffic() if isinstance(instance, TrafficMeter) else Traffic()
        self.files = file_traffic.snapshot(instance) if record.type == "file" and instance \
            else None
        self.offset = _offset(record.watermark)

    def _instance(self) -> Connector | None:
        try:
            return self.engine.instance(self.record)
        except Exception:  # bad settings: the run itself reports them
            return None

    def finish(self) -> dict[str, int]:
        instance = self._instance()
        if instance is None:
            return {}
        if isinstance(instance, TrafficMeter):
            return instance.traffic().since(self.start).to_dict()
        if self.files is None:
            return {}
        if self.profile is RunProfile.EXPORT:
            return Traffic(bytes_sent=file_traffic.written(
                self.files, file_traffic.snapshot(instance))).to_dict()
        if self.profile in (RunProfile.FULL_IMPORT, RunProfile.DELTA_IMPORT):
            after = self.engine.store.connectors.get(self.record.name).watermark
            return file_traffic.import_traffic(instance, self.profile is RunProfile.FULL_IMPORT,
                                               self.offset, _offset(after)).to_dict()
        return {}


def _offset(watermark: object) -> int | None:
    if isinstance(watermark, dict) and isinstance(watermark.get("offset"), int):
        return watermark["offset"]
    return None
