"""Export: add, modify (value-level member changes in chunks), rename/move (modrdn), delete.

A large member list is never replaced wholesale: value adds and removes go out as
``MOD_ADD`` / ``MOD_DELETE`` requests of at most ``max_values_per_request`` (5,000) values.
A new group with more members than that is added with the first chunk and filled by modifies.
Each change fails alone: the LDAP result code and message come back as the result's
``error_code`` (``ldap-<code>``) and ``error_detail``. Only a lost connection raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import ldap.dn

import ldap
from idsync.connectors.base import ExportChange, ExportResult, ExportValue
from idsync.connectors.ldap.connection import describe, result_code
from idsync.connectors.ldap.reader import DirectoryReader
from idsync.error_codes import is_retryable
from idsync.errors import ConnectivityError
from idsync.model import ExportKind

Mod = tuple[int, str, list[bytes] | None]


def encode(value: ExportValue) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return value.dn.encode("utf-8")  # ExportRef: references are written as DNs


def chunk_mods(mods: Sequence[Mod], max_values: int) -> list[list[Mod]]:
    """Pack modifications into requests of at most ``max_values`` values each; a long value
    list is split across requests. Replaces (and deletes of a whole attribute) count as one."""
    requests: list[list[Mod]] = []
    current: list[Mod] = []
    used = 0
    for op, attr, values in mods:
        pieces = ([values[i:i + max_values] for i in range(0, len(values), max_values)]
                  if values and op != ldap.MOD_REPLACE else [values])
        for piece in pieces:
            size = max(1, len(piece or []))
            if current and used + size > max_values:
                requests.append(current)
                current, used = [], 0
            current.append((op, attr, piece))
            used += size
    if current:
        requests.append(current)
    return requests


class LdapExporter:
    def __init__(self, reader: DirectoryReader) -> None:
        self.reader = reader
        self.conn = reader.conn
        self.max_values = reader.settings.max_values_per_request

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        for change in changes:
            yield self.apply(change)

    def apply(self, change: ExportChange) -> ExportResult:
        try:
            if change.kind == ExportKind.ADD:
                return self._add(change)
            if change.kind == ExportKind.DELETE:
                return self._delete(change)
            dn = change.dn
            if change.kind == ExportKind.RENAME and change.new_dn:
                dn = self._rename(change.dn, change.new_dn)
            self._modify(dn, self._mods(change))
            return ExportResult(cs_id=change.cs_id, ok=True, anchor=change.anchor,
                                dn=dn if dn != change.dn else None)
        except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR) as error:
            raise ConnectivityError(f"lost {self.reader.settings.uri}: {describe(error)}") from None
        except ldap.LDAPError as error:
            code = result_code(error)
            error_code = f"ldap-{code if code is not None else 'error'}"
            # The registry says which result codes are transient (busy, unavailable, ...).
            return ExportResult(cs_id=change.cs_id, ok=False, error_code=error_code,
                                error_detail=describe(error),
                                retryable=is_retryable(error_code))

    # --- operations -----------------------------------------------------------------------
    def _add(self, change: ExportChange) -> ExportResult:
        values: dict[str, list[bytes]] = {}
        for attr, vals in change.attributes.items():
            if vals:
                values.setdefault(attr, []).extend(encode(v) for v in vals)
        for attr, vals in change.value_adds.items():
            values.setdefault(attr, []).extend(encode(v) for v in vals)
        if not any(k.lower() == "objectclass" for k in values):
            classes = self.reader.settings.object_types.get(change.object_type, ())
            values["objectClass"] = [classes[0].encode()] if classes else []
        first: list[tuple[str, list[bytes]]] = []
        rest: list[Mod] = []
        for attr, encoded in values.items():
            first.append((attr, encoded[:self.max_values]))
            if len(encoded) > self.max_values:
                rest.append((ldap.MOD_ADD, attr, encoded[self.max_values:]))
        self.conn.add_s(change.dn, first)
        self._modify(change.dn, rest)
        return ExportResult(cs_id=change.cs_id, ok=True, anchor=self._anchor_of(change.dn))

    def _delete(self, change: ExportChange) -> ExportResult:
        # Already gone: the goal of the export holds.
        with contextlib.suppress(ldap.NO_SUCH_OBJECT):
            self.conn.delete_s(change.dn)
        return ExportResult(cs_id=change.cs_id, ok=True)

    def _rename(self, dn: str, new_dn: str) -> str:
        new_rdns = ldap.dn.str2dn(new_dn)
        old_parent = ldap.dn.str2dn(dn)[1:]
        new_rdn = ldap.dn.dn2str(new_rdns[:1])
        new_parent = ldap.dn.dn2str(new_rdns[1:])
        superior = None if _same(old_parent, new_rdns[1:]) else new_parent
        self.conn.rename_s(dn, new_rdn, superior, delold=1)
        return new_dn

    def _mods(self, change: ExportChange) -> list[Mod]:
        mods: list[Mod] = [(ldap.MOD_REPLACE, a, [encode(v) for v in vals] or None)
                           for a, vals in change.attributes.items()]
        mods += [(ldap.MOD_DELETE, a, [encode(v) for v in vals])
                 for a, vals in change.value_removes.items() if vals]
        mods += [(ldap.MOD_ADD, a, [encode(v) for v in vals])
                 for a, vals in change.value_adds.items() if vals]
        return mods

    def _modify(self, dn: str, mods: list[Mod]) -> None:
        for request in chunk_mods(mods, self.max_values):
            try:
                self.conn.modify_s(dn, request)
            except (ldap.TYPE_OR_VALUE_EXISTS, ldap.NO_SUCH_ATTRIBUTE):
                # Some values were already added / already gone (a retried export, or a
                # change made on-premises meanwhile): send only the ones still needed.
                fixed = self._without_noops(dn, request)
                if fixed:
                    self.conn.modify_s(dn, fixed)

    def _without_noops(self, dn: str, request: list[Mod]) -> list[Mod]:
        attrs = sorted({attr for op, attr, _ in request if op != ldap.MOD_REPLACE})
        current = self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", attrs)[0][1]
        have = {k.lower(): {v.lower() for v in vs} for k, vs in current.items()}
        out: list[Mod] = []
        for op, attr, values in request:
            if op == ldap.MOD_REPLACE or values is None:
                out.append((op, attr, values))
                continue
            present = have.get(attr.lower(), set())
            keep = [v for v in values if (v.lower() in present) == (op == ldap.MOD_DELETE)]
            if keep:
                out.append((op, attr, keep))
        return out

    def _anchor_of(self, dn: str) -> str | None:
        found = self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)",
                                   [self.reader.anchor_attribute])
        return self.reader.anchor_of(found[0][1]) if found else None


def _same(a: Any, b: Any) -> bool:
    norm = lambda rdns: [sorted((t.lower(), v.lower()) for t, v, _ in r) for r in rdns]  # noqa: E731
    return norm(a) == norm(b)
