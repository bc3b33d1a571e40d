"""Sync rules as stored: one JSON document per rule, with the columns the engine looks up by."""

from __future__ import annotations

import builtins
from typing import Any

from idsync import values
from idsync.errors import ConfigurationError
from idsync.rules.model import SyncRule
from idsync.store.database import BaseDatabase, utcnow


class RuleRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def list(self) -> list[SyncRule]:
        return [SyncRule.from_dict(values.loads(r[1]), rule_id=r[0]) for r in self.db.query(
            "SELECT id, definition FROM sync_rules ORDER BY precedence, name")]

    def page(self, *, after: tuple[int, int] | None = None, limit: int = 50,
             direction: str | None = None, connector_id: int | None = None,
             disabled: bool | None = None, reserved: bool | None = None
             ) -> builtins.list[SyncRule]:
        """Rules in precedence order (then id), ``limit`` at most, after the keyset ``after``
        (precedence, id): the rules editor's list pages through them."""
        where: builtins.list[str] = ["1 = 1"]
        params: builtins.list[Any] = []
        if after is not None:
            where.append("(precedence > ? OR (precedence = ? AND id > ?))")
            params += [after[0], after[0], after[1]]
        for column, value in (("direction", direction), ("connector_id", connector_id),
                              ("disabled", None if disabled is None else int(disabled)),
                              ("reserved", None if reserved is None else int(reserved))):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return [SyncRule.from_dict(values.loads(r[1]), rule_id=r[0]) for r in self.db.query(
            f"SELECT id, definition FROM sync_rules WHERE {' AND '.join(where)} "
            "ORDER BY precedence, id LIMIT ?", (*params, limit))]

    def by_id(self, rule_id: int) -> SyncRule | None:
        row = self.db.query_one("SELECT id, definition FROM sync_rules WHERE id = ?", (rule_id,))
        return SyncRule.from_dict(values.loads(row[1]), rule_id=row[0]) if row else None

    def find(self, name: str) -> SyncRule | None:
        row = self.db.query_one("SELECT id, definition FROM sync_rules WHERE name = ?", (name,))
        return SyncRule.from_dict(values.loads(row[1]), rule_id=row[0]) if row else None

    def get(self, name: str) -> SyncRule:
        rule = self.find(name)
        if rule is None:
            raise ConfigurationError(f"no sync rule named {name!r}")
        return rule

    def save(self, rule: SyncRule, connector_id: int) -> SyncRule:
        """Insert or replace a rule by name."""
        doc = values.dumps(rule.to_dict())
        self.db.execute(
            "INSERT INTO sync_rules (name, direction, connector_id, precedence, disabled, reserved,"
            " definition, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE"
            " SET direction = excluded.direction, connector_id = excluded.connector_id, "
            "precedence = excluded.precedence, disabled = excluded.disabled, "
            "reserved = excluded.reserved, definition = excluded.definition, "
            "updated_at = excluded.updated_at",
            (rule.name, rule.direction.value, connector_id, rule.precedence, int(rule.disabled),
             int(rule.reserved), doc, utcnow()))
        rule.id = self.db.scalar("SELECT id FROM sync_rules WHERE name = ?", (rule.name,))
        return rule

    def delete(self, name: str) -> None:
        self.db.execute("DELETE FROM sync_rules WHERE name = ?", (name,))

    def fingerprint(self) -> str:
        """Changes whenever any rule changes: the engine rebuilds the join index then."""
        count, updated = self.db.query(
            "SELECT count(*), coalesce(max(updated_at), '') FROM sync_rules")[0]
        return f"{count}:{updated}"
