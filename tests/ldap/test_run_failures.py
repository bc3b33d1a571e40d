"""A run that cannot do its work ends stopped, with its cause in the run history and an event,
and the command line says so in one line: on real slapd, a wrong partition, an included
container that does not exist, and a failure nothing names (a raw NO_SUCH_OBJECT from a wrong
accesslog base) that used to end in a traceback with the run left "in-progress"; on a real
Samba AD DC, a partition that is not a naming context (an OU, a typo) and an included OU that
does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from idsync.cli.main import build
from idsync.events import EventId
from idsync.lab.samba import SambaDC
from idsync.lab.slapd import SlapdServer
from idsync.store import Store

Idsync = Callable[..., Result]


def cli_for(workspace: Path) -> Idsync:
    def run(*args: str) -> Result:
        result = CliRunner().invoke(build(), ["--workspace", str(workspace), *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    run.workspace = workspace  # type: ignore[attr-defined]
    return run


def add_ldap(idsync: Idsync, server: Any, **settings: str) -> None:
    """The connector, added through the command line; its password goes in through the store
    (how secrets reach the command line is another part's concern)."""
    argv = ["connector", "add", "corp", "--type", "ldap", "--set", f"uri={server.uri}"]
    for key, value in {"partitions": json.dumps([server.base_dn]), **settings}.items():
        argv += ["--set", f"{key}={value}"]
    assert idsync("init").exit_code == 0
    done = idsync(*argv)
    assert done.exit_code == 0, done.output
    set_bind(idsync.workspace, server.bind_dn, server.password)  # type: ignore[attr-defined]


def set_bind(workspace: Path, bind_dn: str, password: str) -> None:
    store = Store.open(workspace)
    try:
        record = store.connectors.get("corp")
        with store.transaction():
            store.connectors.update(record.id, settings={**record.settings, "bind_dn": bind_dn},
                                    secrets={"password": password})
    finally:
        store.close()


def last_run(workspace: Path, run_id: int | None = None) -> tuple[str, str, list[str]]:
    store = Store.open(workspace)
    try:
        run = store.runs.get(run_id) if run_id else store.runs.list(limit=1)[0]
        assert run is not None
        events = [e.message for e in store.events.list(event_id=int(EventId.RUN_FAILED),
                                                       run_id=run.id)]
        return run.status, run.message or "", events
    finally:
        store.close()


@pytest.mark.slapd
@pytest.mark.parametrize(("settings", "status", "expected"), [
    ({"partitions": '["dc=exampel,dc=com"]'}, "stopped-configuration-error",
     "partition 'dc=exampel,dc=com' is under none of the server's naming contexts"),
    ({"include_containers": '["ou=Nowhere,dc=example,dc=com"]'},
     "stopped-configuration-error",
     "include_containers 'ou=Nowhere,dc=example,dc=com' does not exist on the server"),
    ({"change_detection": "accesslog", "accesslog_base": "cn=nowhere"}, "stopped-server",
     "the directory has no entry at a configured DN"),
])
def test_a_run_that_fails_ends_stopped_with_its_cause(
        slapd: SlapdServer, tmp_path: Path, settings: dict[str, str], status: str,
        expected: str) -> None:
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, slapd, **settings)

    result = idsync("run", "corp", "Full Import")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert expected in result.stdout
    run_status, message, events = last_run(workspace)
    assert run_status == status  # not "in-progress"
    assert expected in message
    assert len(events) == 1 and expected in events[0]


@pytest.mark.slapd
def test_a_cycle_with_a_wrong_partition_ends_with_the_run_stopped(
        slapd: SlapdServer, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, slapd, partitions='["ou=Typo,dc=example,dc=com"]')

    result = idsync("cycle", "start", "--json")

    assert result.exit_code == 1 and "Traceback" not in result.output
    cycle = json.loads(result.stdout)
    assert cycle["runs"][0]["status"] == "stopped-configuration-error"
    assert "'ou=Typo,dc=example,dc=com' does not exist" in cycle["runs"][0]["message"]
    assert last_run(workspace, cycle["runs"][0]["run_id"])[0] == "stopped-configuration-error"


@pytest.mark.slapd
def test_debug_shows_the_traceback_of_an_unexpected_failure(
        slapd: SlapdServer, tmp_path: Path) -> None:
    """`idsync --debug` logs the traceback the one-line message stands for."""
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, slapd, change_detection="accesslog", accesslog_base="cn=nowhere")

    quiet = idsync("run", "corp", "fi")
    loud = idsync("--debug", "run", "corp", "fi")

    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "NO_SUCH_OBJECT" in loud.stderr


AD_CASES = [
    ("partitions", "OU=Domain Controllers,{base}",
     "partition 'OU=Domain Controllers,{base}' is not a naming context of this Active "
     "Directory (a partition is a naming context such as the domain DN; scope OUs with "
     "include_containers)"),
    ("partitions", "{typo}", "partition '{typo}' is not a naming context"),
    ("include_containers", "OU=Nowhere,{base}",
     "include_containers 'OU=Nowhere,{base}' does not exist on the server"),
]


@pytest.mark.samba
@pytest.mark.parametrize(("key", "value", "expected"), AD_CASES)
def test_active_directory_scope_is_checked_at_the_start_of_a_run(
        samba_dc: SambaDC, tmp_path: Path, key: str, value: str, expected: str) -> None:
    typo = samba_dc.base_dn.replace("DC=", "DC=x", 1)
    value, expected = (t.format(base=samba_dc.base_dn, typo=typo) for t in (value, expected))
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, samba_dc, **{key: json.dumps([value])})

    run = idsync("run", "corp", "Full Import")
    cycle = idsync("cycle", "start", "--json")

    assert run.exit_code == 1 and "Traceback" not in run.output
    assert expected in run.stdout
    assert cycle.exit_code == 1 and "Traceback" not in cycle.output
    first = json.loads(cycle.stdout)["runs"][0]
    assert first["status"] == "stopped-configuration-error" and expected in first["message"]
    status, message, events = last_run(workspace, first["run_id"])
    assert status == "stopped-configuration-error" and expected in message
    assert len(events) == 1 and expected in events[0]


@pytest.mark.samba
def test_active_directory_ou_scoped_with_include_containers_runs(
        samba_dc: SambaDC, tmp_path: Path) -> None:
    """The documented way: the domain partition, and the OU in include_containers."""
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, samba_dc,
             include_containers=json.dumps([f"OU=Domain Controllers,{samba_dc.base_dn}"]))

    run = idsync("run", "corp", "Full Import")

    assert run.exit_code == 0, run.output
    assert last_run(workspace)[0] == "success"


@pytest.mark.slapd
def test_a_wrong_bind_password_stops_the_run_naming_what_to_check(
        slapd: SlapdServer, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    idsync = cli_for(workspace)
    add_ldap(idsync, slapd)
    set_bind(workspace, slapd.bind_dn, "wrong")

    result = idsync("run", "corp", "Full Import")

    assert result.exit_code == 1 and "Traceback" not in result.output
    status, message, events = last_run(workspace)
    assert status == "stopped-connectivity"
    assert "Invalid credentials; check the connector's bind_dn and its password secret" in message
    assert message in result.stdout and len(events) == 1
