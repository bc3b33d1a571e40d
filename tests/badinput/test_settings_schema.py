"""Whatever YAML value an administrator gives a setting, the schema answers with the value or
one line naming the key: never another exception (a ValueError or TypeError from parsing was the
traceback of `page_size=abc`)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.connectors.settings import SCHEMAS, SettingError, validate

REQUIRED = {
    "ldap": {"uri": "ldap://dc1", "partitions": "DC=corp,DC=example"},
    "file": {"path": "a.ldif"},
    "cloud": {"url": "http://127.0.0.1:8080", "tenant_id": "t1"},
    "graph": {"tenant_id": "t1", "client_id": "c1"},
}
KEYS = [(t, s.name) for t, schema in SCHEMAS.items() for s in schema.settings]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=30))
# What `--set key=VALUE` can produce: YAML scalars, lists and mappings of them, nested a little.
yaml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)


@pytest.mark.parametrize(("connector_type", "key"), KEYS)
@settings(max_examples=60, deadline=None)
@given(value=yaml_values)
def test_any_value_is_taken_or_refused_in_one_line(connector_type: str, key: str,
                                                   value: Any) -> None:
    raw = {**REQUIRED[connector_type], key: value}
    try:
        validate(connector_type, raw)
    except SettingError as exc:
        text = str(exc)
        assert "\n" not in text and repr(key) in text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_any_command_line_text_is_taken_or_refused_in_one_line(text: str) -> None:
    """`--set page_size=TEXT` as parse_assignments reads it (YAML), on every ldap key."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    for setting in SCHEMAS["ldap"].settings:
        try:
            validate("ldap", {**REQUIRED["ldap"], setting.name: value})
        except SettingError as exc:
            assert "\n" not in str(exc)
