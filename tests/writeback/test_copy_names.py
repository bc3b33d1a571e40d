"""A written-back copy names its cloud group: whatever the display name, the DN the writeback
rule gives the copy (either naming) leads back to the cloud id, and to no other group."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from idsync.expressions import DictContext, compile_expression
from idsync.writeback.copies import CopyNames
from idsync.writeback.rules import WritebackConfig, writeback_rules

OU = "ou=Writeback,dc=example,dc=com"


def copy_dn(naming: str, cloud_id: str, display_name: str) -> str:
    rules = writeback_rules(WritebackConfig("corp", "cloud", OU, naming=naming))
    rule = next(r for r in rules if r.name == "Out to AD - Group Writeback")
    dn = next(t.source for t in rule.transformations if t.target == "dn")
    return str(compile_expression(dn)(DictContext({"cloudGroupId": cloud_id,
                                                   "displayName": display_name})))


@given(display_name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                            max_size=40),
       ids=st.lists(st.uuids().map(str), min_size=2, max_size=5, unique=True))
def test_the_copy_dn_names_its_cloud_group(display_name: str, ids: list[str]) -> None:
    ours, others = ids[0], ids[1:]
    for naming in ("id", "displayname"):
        dn = copy_dn(naming, ours, display_name)
        assert CopyNames(ids).cloud_id(dn) == ours, dn
        assert CopyNames(others).cloud_id(dn) is None, dn


def test_an_ordinary_group_of_the_ou_names_no_cloud_group() -> None:
    assert CopyNames([str(uuid.uuid4())]).cloud_id(f"cn=Sales,{OU}") is None
