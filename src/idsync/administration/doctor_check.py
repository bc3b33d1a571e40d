"""One ``idsync doctor`` check: its name, OK / WARN / FAIL, and one line saying what is wrong
and what to do. The commands a line suggests are built from ``ADVICE`` only, so a test can
prove every one of them exists in the command tree."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


OK, WARN, FAIL = Status.OK, Status.WARN, Status.FAIL


@dataclass
class Check:
    name: str
    status: Status
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": str(self.status), "detail": self.detail}


#: Every command doctor can suggest, by key. ``{connector}`` is a connector's name; other
#: fields are placeholders the operator fills in (they parse as they are).
ADVICE: dict[str, str] = {
    "init": "idsync init",
    "errors": "idsync errors list --connector {connector}",
    "set_uri": "idsync connector set {connector} --set uri=...",
    "set_bind_dn": "idsync connector set {connector} --set bind_dn=...",
    "set_partitions": "idsync connector set {connector} --set partitions=...",
    "set_containers": "idsync connector set {connector} --set include_containers=...",
    "set_url": "idsync connector set {connector} --set url=...",
    "set_start_tls": "idsync connector set {connector} --set start_tls=true",
    "set_secret_help": "idsync connector set --help",
    "show": "idsync connector show {connector}",
    "scheduler_enable": "idsync scheduler set --sync-cycle-enabled true",
    "scheduler_resume": "idsync scheduler set --suspended false",
    "serve": "idsync serve",
    "cycle_start": "idsync cycle start",
    "api_version": "idsync connector set-api-version {connector} --export 2 --import 2",
    "clouddir_serve": "clouddir serve --port {port} --db {db}",
}


def advice(key: str, **fields: object) -> str:
    """A suggested command, in backquotes as doctor prints it."""
    return "`" + ADVICE[key].format(**fields) + "`"
