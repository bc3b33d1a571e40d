"""The flavour choice, a pure function of what the connector tells and what the operator asks:
the detected flavour wins, a contradiction is refused in one line, and an undetectable
directory must be named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idsync.administration.flavour import Detection, choose_flavour, detect_flavour
from idsync.errors import ConfigurationError
from idsync.model import ConnectorRecord

FLAVOUR = st.sampled_from(["ad", "openldap"])


def record(kind: str, settings: dict[str, object]) -> ConnectorRecord:
    return ConnectorRecord(id=1, name="corp", type=kind, settings=settings, secrets={},
                           watermark=None, full_import_required=False,
                           full_sync_required=False)


@given(detected=st.one_of(st.none(), FLAVOUR), asked=st.one_of(st.none(), FLAVOUR))
def test_the_detected_flavour_wins_and_a_contradiction_is_refused(detected, asked) -> None:  # type: ignore[no-untyped-def]
    detection = Detection(detected, "because")
    if detected is not None and asked not in (None, detected):
        with pytest.raises(ConfigurationError, match=f"--flavour {asked} contradicts"):
            choose_flavour(record("ldap", {}), asked, detection)
    elif detected is None and asked is None:
        with pytest.raises(ConfigurationError, match="name it with --flavour"):
            choose_flavour(record("ldap", {}), asked, detection)
    else:
        assert choose_flavour(record("ldap", {}), asked, detection) == (detected or asked)


@given(anchor=st.sampled_from(["objectGUID", "objectguid", "entryUUID", "ENTRYUUID"]))
def test_a_file_connector_is_told_by_its_anchor_attribute(anchor: str) -> None:
    found = detect_flavour(record("file", {"anchor_attribute": anchor}), None)
    assert found.flavour == ("ad" if anchor.lower() == "objectguid" else "openldap")


@given(anchor=st.text(min_size=1, max_size=20).filter(
    lambda a: a.lower() not in ("objectguid", "entryuuid")))
def test_any_other_anchor_attribute_is_undetectable(anchor: str) -> None:
    found = detect_flavour(record("file", {"anchor_attribute": anchor}), None)
    assert found.flavour is None and "neither objectGUID" in found.how


def test_an_ldap_connector_without_a_server_uses_an_explicit_directory_type() -> None:
    assert detect_flavour(record("ldap", {"directory_type": "openldap"}), None).flavour == \
        "openldap"
    assert detect_flavour(record("ldap", {"directory_type": "auto"}), None).flavour is None
