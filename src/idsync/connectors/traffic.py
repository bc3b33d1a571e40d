"""What a connector sent and received over its transport, for the run history: requests and
bytes. Each transport counts in its own module (cloud: ``cloud.client``'s HTTP bodies; LDAP:
``ldap.traffic``, operations and the payload of DNs, filters and values; file: bytes read and
written); a run records the difference over its life (``engine.traffic``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from idsync.model import RunProfile


@dataclass(slots=True)
class Traffic:
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    def since(self, earlier: Traffic) -> Traffic:
        return Traffic(self.requests - earlier.requests, self.bytes_sent - earlier.bytes_sent,
                       self.bytes_received - earlier.bytes_received)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@runtime_checkable
class TrafficMeter(Protocol):
    def traffic(self) -> Traffic:
        """Everything since the connector was created (a run takes the difference)."""
        ...


@runtime_checkable
class RunTrafficMeasure(Protocol):
    """A connector that counts nothing as it goes: a run's traffic is read from what the run
    left behind (the file connector: its files' sizes and its watermark's offsets)."""

    def traffic_mark(self, watermark: dict[str, Any] | None) -> object:
        """Taken when a run starts, with the connector's watermark then."""
        ...

    def run_traffic(self, mark: object, profile: RunProfile,
                    watermark: dict[str, Any] | None) -> Traffic | None:
        """The run's traffic from its start ``mark`` and the watermark it left; None when the
        run profile moves nothing this connector can measure."""
        ...
