"""A run's traffic on its connector for the run history: requests and bytes sent and received
(``idsync.connectors.traffic``). Network connectors count as they go and the run takes the
difference (``TrafficMeter``); a connector that counts nothing (the file connector) measures
the run from a mark taken at its start (``RunTrafficMeasure``)."""

from __future__ import annotations

from idsync.connectors.base import Connector
from idsync.connectors.traffic import RunTrafficMeasure, Traffic, TrafficMeter
from idsync.engine.core import RunContext
from idsync.model import ConnectorRecord, RunProfile


class RunTraffic:
    def __init__(self, engine: RunContext, record: ConnectorRecord, profile: RunProfile) -> None:
        self.engine = engine
        self.record = record
        self.profile = profile
        instance = self._instance()
        self.start = instance.traffic() if isinstance(instance, TrafficMeter) else Traffic()
        self.mark = instance.traffic_mark(record.watermark) \
            if isinstance(instance, RunTrafficMeasure) else None

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
        if self.mark is None or not isinstance(instance, RunTrafficMeasure):
            return {}
        after = self.engine.store.connectors.get(self.record.name).watermark
        measured = instance.run_traffic(self.mark, self.profile, after)
        return {} if measured is None else measured.to_dict()
