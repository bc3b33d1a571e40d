"""Per-tenant write budget: a token bucket, the way the real service throttles writes
(7,000 per 5 minutes per tenant). Kept in memory: one clouddir process serves a tenant."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class WriteBudget:
    def __init__(self, budget: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(budget)
        self.rate = budget / window  # writes regained per second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # tenant -> (tokens, stamp)

    def try_spend(self, tenant_id: str, cost: int) -> int:
        """Spend ``cost`` writes; 0 when granted, else the seconds to wait (Retry-After)."""
        # A batch larger than the whole budget could never pass; charge it the full budget.
        cost_f = min(float(cost), self.capacity)
        with self._lock:
            now = self._clock()
            tokens, stamp = self._buckets.get(tenant_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= cost_f:
                self._buckets[tenant_id] = (tokens - cost_f, now)
                return 0
            self._buckets[tenant_id] = (tokens, now)
            return max(1, math.ceil((cost_f - tokens) / self.rate))
