"""The graph exporter's planning and packing, as pure logic: changes become Graph batch items
within Graph's limits (20 requests per $batch, 20 binds per request), every member add and
remove planned exactly once, dependsOn naming only earlier requests of the same batch, and
answers read into one result per change. The answers come from a stand-in for the $batch
client; tests/connectors/test_graph_export.py runs the same against a real clouddir."""

from __future__ import annotations

import math
import string
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.connectors.base import ExportChange, ExportRef
from idsync.connectors.graph.errors import GraphApiError
from idsync.connectors.graph.export import ExportOptions, GraphExporter
from idsync.connectors.graph.export_answers import Outcome, judge
from idsync.connectors.graph.export_plan import Item, Step, graph_value, plan_change
from idsync.connectors.graph.passwords import SYMBOLS, new_password
from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError
from idsync.model import ExportKind

GRAPH = "https://graph.test/v1.0"


def ref(i: int | str) -> ExportRef:
    return ExportRef(f"CN=m{i}", f"id-{i}")


class Recorder:
    """Answers every request as Graph would on success; records the batches."""

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.answer = answer
        self.created = 0

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        self.batches.append(requests)
        out = {}
        for r in requests:
            special = self.answer(r) if self.answer else None
            if special is not None:
                out[r["id"]] = special
            elif r["method"] == "POST" and r["url"] in ("/users", "/groups"):
                self.created += 1
                out[r["id"]] = {"status": 201, "headers": {},
                                "body": {"id": f"new-{self.created}"}}
            else:
                out[r["id"]] = {"status": 204, "headers": {}}
        return out


def group_add(cs_id: int, members: int) -> ExportChange:
    return ExportChange(cs_id, ExportKind.ADD, f"CN=g{cs_id}", "group", attributes={
        "displayName": [f"g{cs_id}"], "securityEnabled": ["true"], "mailEnabled": ["FALSE"],
        "groupTypes": [], "members": [ref(f"{cs_id}-{i}") for i in range(members)]})


def group_modify(cs_id: int, adds: int, removes: int) -> ExportChange:
    return ExportChange(cs_id, ExportKind.MODIFY, f"CN=g{cs_id}", "group", anchor=f"g-{cs_id}",
                        attributes={"description": ["d"]} if cs_id % 2 else {},
                        value_adds={"members": [ref(f"{cs_id}-a{i}") for i in range(adds)]},
                        value_removes={"members": [ref(f"{cs_id}-r{i}")
                                                   for i in range(removes)]})


def test_values_are_graphs_types() -> None:
    assert graph_value("accountEnabled", ["TRUE"]) is True
    assert graph_value("securityEnabled", ["false"]) is False
    assert graph_value("groupTypes", ["Unified"]) == ["Unified"]
    assert graph_value("proxyAddresses", ["SMTP:a@x", "smtp:b@x"]) == ["SMTP:a@x", "smtp:b@x"]
    assert graph_value("displayName", []) is None
    assert graph_value("jobTitle", [b"\x00"]) == "AA=="


def test_a_user_add_has_a_password_flag_and_its_manager_waits_for_the_id() -> None:
    change = ExportChange(1, ExportKind.ADD, "CN=u", "user", attributes={
        "userPrincipalName": ["u@x"], "accountEnabled": ["true"], "jobTitle": [],
        "manager": [ExportRef("CN=boss", "boss-id")]})
    plan = plan_change(change, GRAPH)
    create, manager = plan.items
    assert create.step is Step.CREATE and create.password and not create.after_create
    assert create.body == {"userPrincipalName": "u@x", "accountEnabled": True}
    assert "passwordProfile" not in repr(plan) and "body" not in repr(create)
    assert (manager.step, manager.method, manager.suffix) == (Step.SET_MANAGER, "PUT",
                                                               "/manager/$ref")
    assert manager.after_create and manager.body == {
        "@odata.id": f"{GRAPH}/directoryObjects/boss-id"}


def test_a_modify_clears_with_null_and_manager_removal_is_a_delete() -> None:
    change = ExportChange(1, ExportKind.MODIFY, "CN=u", "user", anchor="u1",
                          attributes={"jobTitle": [], "department": ["IT"]},
                          value_removes={"manager": [ExportRef("CN=boss", "boss-id")]})
    update, clear = plan_change(change, GRAPH).items
    assert update.body == {"jobTitle": None, "department": "IT"}
    assert (clear.step, clear.method, clear.suffix) == (Step.CLEAR_MANAGER, "DELETE",
                                                         "/manager/$ref")


def test_a_reference_without_an_anchor_is_pending_not_sent() -> None:
    change = ExportChange(1, ExportKind.MODIFY, "CN=g", "group", anchor="g1",
                          value_adds={"members": [ref(1), ExportRef("CN=later")]})
    plan = plan_change(change, GRAPH)
    assert plan.pending == ["CN=later"]
    assert [i.members for i in plan.items] == [1]
    [result] = GraphExporter(Recorder(), {"graph_url": GRAPH}).export([change])
    assert (result.ok, result.error_code, result.retryable) == (
        False, ErrorCode.GRAPH_REFERENCE_PENDING, True)
    assert "CN=later" in (result.error_detail or "")


def test_other_object_types_and_updates_without_anchor_are_refused() -> None:
    contact = ExportChange(1, ExportKind.ADD, "CN=c", "contact")
    orphan = ExportChange(2, ExportKind.MODIFY, "CN=g", "group", attributes={"x": ["y"]})
    gone = ExportChange(3, ExportKind.DELETE, "CN=g", "group")  # never created: nothing to do
    client = Recorder()
    results = {r.cs_id: r for r in GraphExporter(client, {"graph_url": GRAPH}).export(
        [contact, orphan, gone])}
    assert results[1].error_code == ErrorCode.GRAPH_OBJECT_TYPE_UNSUPPORTED
    assert results[2].error_code == ErrorCode.GRAPH_NO_ANCHOR
    assert results[3].ok and not client.batches


def test_answers_idempotent_resends_count_as_done() -> None:
    gone = {"status": 404, "body": {"error": {"code": "Request_ResourceNotFound",
                                              "message": "gone"}}}
    there = {"status": 400, "body": {"error": {
        "code": "Request_BadRequest", "message": "One or more added object references already "
                                                 "exist for the following modified properties: "
                                                 "'members'."}}}
    assert judge(Item(Step.UNBIND, "DELETE", "/members/x/$ref"), gone).outcome is Outcome.DONE
    assert judge(Item(Step.DELETE, "DELETE", ""), gone).outcome is Outcome.DONE
    assert judge(Item(Step.UPDATE, "PATCH", ""), gone).outcome is Outcome.FAILED
    assert judge(Item(Step.BIND, "PATCH", "", members=1), there).outcome is Outcome.DONE
    assert judge(Item(Step.BIND, "PATCH", "", members=5), there).outcome is Outcome.SPLIT


def test_a_refused_bind_goes_again_member_by_member() -> None:
    def answer(r: dict[str, Any]) -> dict[str, Any] | None:
        if r["method"] == "PATCH" and "members@odata.bind" in r.get("body", {}):
            return {"status": 400, "body": {"error": {
                "code": "Request_BadRequest", "message": "One or more added object "
                "references already exist for the following modified properties: 'members'."}}}
        if r["method"] == "POST" and r["url"].endswith("/members/$ref") \
                and r["body"]["@odata.id"].endswith("id-1-a0"):
            return {"status": 400, "body": {"error": {
                "code": "Request_BadRequest", "message": "One or more added object "
                "references already exist for the following modified properties: 'members'."}}}
        return None

    client = Recorder(answer)
    [result] = GraphExporter(client, {"graph_url": GRAPH}).export([group_modify(1, 3, 0)])
    assert result.ok, result
    singles = [r for b in client.batches for r in b if r["url"].endswith("/members/$ref")]
    assert len(singles) == 3


def test_a_failed_dependency_of_a_done_request_is_sent_again() -> None:
    calls: list[int] = []

    def answer(r: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(1)
        if r.get("dependsOn") and len(calls) <= 3:
            return {"status": 424, "body": {"error": {"code": "FailedDependency",
                                                      "message": "x"}}}
        return None

    client = Recorder(answer)
    [result] = GraphExporter(client, {"graph_url": GRAPH}).export([group_modify(1, 3, 1)])
    assert result.ok, result


def test_a_failure_names_the_request_and_keeps_graphs_code() -> None:
    def answer(r: dict[str, Any]) -> dict[str, Any] | None:
        if r["url"].startswith("/groups/g-1/members/"):
            return {"status": 429, "headers": {"Retry-After": "1"}, "body": {"error": {
                "code": "TooManyRequests", "message": "Too many requests."}}}
        if r["url"] == "/groups/g-3":
            return {"status": 503, "body": {"error": {"code": "ServiceUnavailable",
                                                      "message": "Try again later."}}}
        if r["url"] == "/users":
            return {"status": 400, "body": {"error": {
                "code": "Request_BadRequest", "message": "Another object with the same value "
                "for property userPrincipalName already exists."}}}
        return None

    user = ExportChange(2, ExportKind.ADD, "CN=u", "user",
                        attributes={"userPrincipalName": ["u@x"]})
    results = {r.cs_id: r for r in GraphExporter(Recorder(answer), {"graph_url": GRAPH})
               .export([group_modify(1, 0, 2), user, group_modify(3, 2, 0)])}
    assert (results[1].ok, results[1].error_code, results[1].retryable) == (
        False, "TooManyRequests", True)
    assert (results[1].error_detail or "").startswith(
        "remove member id-1-r0: TooManyRequests: Too many requests.; remove member id-1-r1: ")
    assert (results[3].error_code, results[3].retryable) == ("ServiceUnavailable", True)
    assert (results[3].error_detail or "").startswith("update attributes: ")
    assert (results[2].error_code, results[2].retryable, results[2].anchor) == (
        ErrorCode.ATTRIBUTE_VALUE_MUST_BE_UNIQUE, False, None)
    assert (results[2].error_detail or "").startswith("create: AttributeValueMustBeUnique: "
                                                      "userPrincipalName: Another object")


def test_a_batch_refused_whole_fails_its_changes_only() -> None:
    class Flaky(Recorder):
        def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
            if not self.batches:
                self.batches.append(requests)
                raise GraphApiError(503, "ServiceUnavailable", "down")
            return super().batch(requests)

    changes = [ExportChange(i, ExportKind.DELETE, f"CN={i}", "user", anchor=f"u{i}")
               for i in range(25)]
    results = list(GraphExporter(Flaky(), {"graph_url": GRAPH}).export(changes))
    assert [r.ok for r in results] == [False] * 20 + [True] * 5
    assert results[0].retryable and results[0].error_code == "ServiceUnavailable"


def test_the_settings_it_reads() -> None:
    exporter = GraphExporter(Recorder(), SimpleNamespace(graph_url=GRAPH + "/",
                                                         password_length=None))
    assert exporter.options == ExportOptions(GRAPH, 24)
    assert ExportOptions.of({"graph_url": GRAPH, "password_length": 40}).password_length == 40
    for bad in ({"graph_url": GRAPH, "password_length": 4}, {"graph_url": ""}):
        with pytest.raises(ConfigurationError):
            ExportOptions.of(bad)


def test_passwords_follow_the_policy() -> None:
    for length in (8, 24, 64):
        password = new_password(length)
        assert len(password) == length
        for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS):
            assert any(c in chars for c in password)
    assert len({new_password() for _ in range(50)}) == 50


changes_strategy = st.lists(st.one_of(
    st.builds(lambda m: ("add", m), st.integers(0, 70)),
    st.builds(lambda a, r: ("modify", a, r), st.integers(0, 45), st.integers(0, 25)),
    st.just(("delete",)),
    st.just(("user",))), min_size=1, max_size=30)


def _changes(spec: list[tuple[Any, ...]]) -> list[ExportChange]:
    out = []
    for cs_id, s in enumerate(spec, start=1):
        if s[0] == "add":
            out.append(group_add(cs_id, s[1]))
        elif s[0] == "modify":
            out.append(group_modify(cs_id, s[1], s[2]))
        elif s[0] == "delete":
            out.append(ExportChange(cs_id, ExportKind.DELETE, "CN=x", "group",
                                    anchor=f"g-{cs_id}"))
        else:
            out.append(ExportChange(cs_id, ExportKind.ADD, "CN=u", "user", attributes={
                "userPrincipalName": [f"u{cs_id}@x"], "manager": [ref("boss")]}))
    return out


def _anchor(value: object) -> str:
    assert isinstance(value, ExportRef) and value.anchor
    return value.anchor


@settings(max_examples=150, deadline=None)
@given(changes_strategy)
def test_packing_stays_within_graphs_limits_and_near_the_floor(
        spec: list[tuple[Any, ...]]) -> None:
    changes = _changes(spec)
    client = Recorder()
    results = list(GraphExporter(client, {"graph_url": GRAPH}).export(changes))
    assert sorted(r.cs_id for r in results) == [c.cs_id for c in changes]
    assert all(r.ok for r in results)
    added: list[str] = []
    removed: list[str] = []
    items = 0
    for batch in client.batches:
        assert 1 <= len(batch) <= 20
        ids = [r["id"] for r in batch]
        assert len(set(ids)) == len(ids)
        for index, r in enumerate(batch):
            items += 1
            for dep in r.get("dependsOn", []):
                assert dep in ids[:index]  # only earlier requests of the same batch
            binds = r.get("body", {}).get("members@odata.bind", [])
            assert len(binds) <= 20
            added += [b.rsplit("/", 1)[1] for b in binds]
            if r["method"] == "DELETE" and r["url"].endswith("/$ref") and "/members/" in \
                    r["url"]:
                removed.append(r["url"].split("/")[4])
            assert "/{" not in r["url"] and "None" not in r["url"]
    want_added = [_anchor(v) for c in changes for v in
                  [*c.attributes.get("members", []), *c.value_adds.get("members", [])]]
    want_removed = [_anchor(v) for c in changes for v in c.value_removes.get("members", [])]
    assert sorted(added) == sorted(want_added)  # each exactly once
    assert sorted(removed) == sorted(want_removed)
    # Every batch is full but for the rounds that wait for a create's answer: at most one
    # short batch per round of group creates with more than 20 members.
    rounds = max([math.ceil(len(c.attributes.get("members", [])) / 20)
                  for c in changes if c.kind is ExportKind.ADD] + [1])
    users = sum(1 for c in changes if c.object_type == "user")
    assert len(client.batches) <= math.ceil(items / 20) + rounds + (1 if users else 0)


def test_when_the_update_fails_the_rest_of_its_change_is_not_sent() -> None:
    def answer(r: dict[str, Any]) -> dict[str, Any] | None:
        if r["url"] == "/groups/g-21" and r["method"] == "PATCH" and "description" in r["body"]:
            return {"status": 400, "body": {"error": {"code": "Request_BadRequest",
                                                      "message": "Invalid value."}}}
        return None

    deletes = [ExportChange(i, ExportKind.DELETE, "CN=x", "user", anchor=f"u{i}")
               for i in range(1, 20)]
    client = Recorder(answer)
    results = {r.cs_id: r for r in GraphExporter(client, {"graph_url": GRAPH}).export(
        [*deletes, group_modify(21, 45, 0), group_modify(23, 2, 0)])}
    assert [len(b) for b in client.batches] == [20, 2]  # 19 deletes and the update; then g-23
    assert not any(r["url"] == "/groups/g-21" for r in client.batches[1])
    assert (results[21].error_code, results[21].error_detail) == (
        "Request_BadRequest", "update attributes: Request_BadRequest: Invalid value.")
    assert results[23].ok and all(results[i].ok for i in range(1, 20))


@settings(max_examples=150, deadline=None)
@given(changes_strategy, st.lists(st.sampled_from([204, 204, 204, 400, 404, 424, 429, 503]),
                                  min_size=1, max_size=50))
def test_any_answers_give_one_result_per_change(spec: list[tuple[Any, ...]],
                                                statuses: list[int]) -> None:
    changes = _changes(spec)
    answered = iter(statuses * 1000)

    def answer(r: dict[str, Any]) -> dict[str, Any] | None:
        status = next(answered)
        if status == 204:
            return None  # as Graph on success (a create gets its id)
        return {"status": status, "headers": {}, "body": {"error": {
            "code": f"C{status}", "message": f"m{status}"}}}

    client = Recorder(answer)
    results = list(GraphExporter(client, {"graph_url": GRAPH}).export(changes))
    assert sorted(r.cs_id for r in results) == [c.cs_id for c in changes]
    for result in results:
        assert result.ok or (result.error_code and result.error_detail)
    assert all(1 <= len(b) <= 20 for b in client.batches)
