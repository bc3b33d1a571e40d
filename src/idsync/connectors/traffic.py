"""What a connector sent and received over its transport, for the run history: requests and
bytes. Each transport counts in its own module (cloud: ``cloud.client``'s HTTP bodies; LDAP:
``ldap.traffic``, operations and the payload of DNs, filters and values; file: bytes read and
written); a run records the difference over its life (``engine.traffic``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable


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
