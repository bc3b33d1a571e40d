"""Uniqueness claims: which object holds each (kind, value) that must be unique in a tenant
(a userPrincipalName, a proxy address, ...; the rules are clouddir.uniqueness's)."""

from __future__ import annotations

from collections.abc import Iterable

from clouddir.storage.database import Database


class ClaimRepository(Database):
    def unique_holder(self, tenant_id: str, kind: str, value: str) -> int | None:
        known = self._prefetched(tenant_id)
        if known and known.holders is not None and (kind, value) in known.holders:
            return known.holders[kind, value]
        row = self._one("SELECT object_seq FROM unique_values WHERE tenant_id = ? AND kind = ? "
                        "AND value = ?", (tenant_id, kind, value))
        return row[0] if row else None

    def unique_values_of(self, object_seq: int) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self._rows(
            "SELECT kind, value FROM unique_values WHERE object_seq = ?", (object_seq,))}

    def claim_unique(self, tenant_id: str, kind: str, value: str, object_seq: int) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO unique_values (tenant_id, kind, value, object_seq) VALUES "
                  "(?, ?, ?, ?)", (tenant_id, kind, value, object_seq))
        self._holder_now(tenant_id, kind, value, object_seq)

    def _holder_now(self, tenant_id: str, kind: str, value: str, seq: int | None) -> None:
        known = self._prefetched(tenant_id)
        if known and known.holders is not None:
            known.holders[kind, value] = seq

    def release_unique(self, tenant_id: str, kind: str, value: str) -> None:
        self._writing(tenant_id)
        self._run("DELETE FROM unique_values WHERE tenant_id = ? AND kind = ? AND value = ?",
                  (tenant_id, kind, value))
        self._holder_now(tenant_id, kind, value, None)

    def _prefetch_holders(self, tenant_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        """``prefetch``'s half for claims: the holder (or None) of each of ``pairs``."""
        wanted = set(pairs)
        found = {(r[0], r[1]): r[2] for r in self._rows_in(
            "SELECT kind, value, object_seq FROM unique_values WHERE tenant_id = ? AND "
            "value IN ({ids})", {value for _kind, value in wanted}, (tenant_id,))}
        self._unit_state.holders = {pair: found.get(pair) for pair in wanted}

    def _release_all_of(self, tenant_id: str, object_seq: int) -> None:
        """A deleted object gives up every value it held."""
        self._run("DELETE FROM unique_values WHERE object_seq = ?", (object_seq,))
        known = self._prefetched(tenant_id)
        if known and known.holders:
            known.holders.update({pair: None for pair, seq in known.holders.items()
                                  if seq == object_seq})
