"""URL values (``attr:< URL``) in the file connector's LDIF: refused unless
``allow_file_urls_under`` names their directory; the setting is checked when it is set; what
idsync writes never reads back as a URL; no input makes the tolerant reader raise."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.cli.main import build
from idsync.connectors.file import create_connector
from idsync.errors import ConfigurationError
from idsync.filedir.ldif import LdifError, format_attribute, format_record, read_ldif
from idsync.filedir.ldif.records import AddRecord, ContentRecord, Modification, ModifyRecord
from idsync.filedir.ldif.tolerant import Unreadable, read_tolerant
from idsync.filedir.ldif.urls import read_url_value


def test_the_setting_must_name_an_existing_absolute_directory(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for value, reason in ((".", "is not an absolute path"),
                          (str(tmp_path / "absent"), "is not an existing directory"),
                          (str(tmp_path / "a-file"), "is not an existing directory"),
                          (["/tmp"], "a list where a single value is expected")):
        with pytest.raises(ConfigurationError, match=reason):
            create_connector("files", {"path": "d.ldif", "allow_file_urls_under": value}, {},
                             str(tmp_path))
    connector = create_connector("files", {"path": "d.ldif",
                                           "allow_file_urls_under": str(tmp_path)}, {},
                                 str(tmp_path))
    assert connector.checks.file_urls_under == os.path.realpath(tmp_path)


def test_connector_add_and_set_refuse_a_bad_directory(tmp_path: Path) -> None:
    cli, runner = build(), CliRunner()

    def idsync(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--workspace", str(tmp_path / "ws"), *args])
        return result.exit_code, " ".join(result.output.split())  # unwrapped

    assert idsync("init")[0] == 0
    code, out = idsync("connector", "add", "files", "--type", "file", "--set", "path=d.ldif",
                       "--set", "allow_file_urls_under=relative/dir")
    assert code == 2 and "'allow_file_urls_under': 'relative/dir' is not an absolute path" in out
    assert "Traceback" not in out
    allowed = tmp_path / "photos"
    allowed.mkdir()
    assert idsync("connector", "add", "files", "--type", "file", "--set", "path=d.ldif",
                  "--set", f"allow_file_urls_under={allowed}")[0] == 0
    code, out = idsync("connector", "set", "files", "--set",
                       f"allow_file_urls_under={tmp_path / 'nope'}")
    assert code == 2 and "is not an existing directory" in out
    code, out = idsync("connector", "show", "files", "--json")
    assert str(allowed) in out  # the refused value was not stored


def test_a_fifo_under_the_allowed_directory_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(LdifError, match="not a regular file"):
        read_url_value("description", f"file://{tmp_path}/pipe".encode(),
                       os.path.realpath(tmp_path), 3, 0)


_NAMES = st.sampled_from(["description", "cn", "jpegPhoto", "member", "x-custom;lang-en"])
_VALUES = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60),
    st.sampled_from(["< file:///etc/shadow", "<file:///etc/shadow", ":< file:///etc/shadow",
                     "\n description:< file:///etc/shadow", "x\ndescription:< file:///x",
                     "< http://example.com/"]))


@settings(max_examples=300, deadline=None)
@given(name=_NAMES, value=_VALUES)
def test_written_values_never_read_back_as_urls(name: str, value: str | bytes) -> None:
    """An exported value (hologram data from any directory) is written so that reading the
    file back yields the value itself: never a URL the reader would follow."""
    text = b"dn: cn=a,dc=x\n" + format_attribute(name, value)
    assert b":<" not in text
    [record] = read_ldif(io.BytesIO(text), binary_attributes=["jpegPhoto"])
    [got] = record.attributes[name]
    # str or bytes as the reader types it; the same bytes either way.
    assert _bytes(got) == _bytes(value)
    modify = format_record(ModifyRecord("cn=a,dc=x", [Modification("replace", name, [value])]))
    add = format_record(AddRecord("cn=a,dc=x", {name: [value]}))
    assert b":<" not in modify and b":<" not in add


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"dn: cn=a,dc=x\n", b"dn:: /w==\n", b"version: 2\n", b"\n", b"\r\n",
                     b" cont\n", b"cn: a\n", b"cn:: ***\n", b"cn:< file:///etc/passwd\n",
                     b"changetype: bogus\n", b"-\n", b"# note\n", b"\x00", b"control: x\n"])),
    max_size=12))
def test_the_tolerant_reader_never_raises(parts: list[bytes]) -> None:
    """Whatever the bytes, each record comes back parsed or as an Unreadable with a line."""
    data = b"".join(parts)
    for item in read_tolerant(io.BytesIO(data)):
        if isinstance(item, Unreadable):
            assert item.line >= 1 and item.reason
        else:
            assert isinstance(item, ContentRecord) or hasattr(item, "dn")


def test_exporting_to_an_entry_that_cannot_be_read_fails_alone(tmp_path: Path) -> None:
    """The target's content file holds a URL value (or any unreadable entry): a change to that
    entry is an export error; the file is never read through it, the other changes apply."""
    from idsync.connectors.base import ExportChange
    from idsync.model import ExportKind

    (tmp_path / "secret.txt").write_text("root only")
    (tmp_path / "dir.ldif").write_text(
        "dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nuid: a\n"
        f"description:< file://{tmp_path}/secret.txt\nentryUUID: 1\n\n"
        "dn: uid=b,dc=x\nobjectClass: inetOrgPerson\nuid: b\nentryUUID: 2\n")
    connector = create_connector("files", {"path": "dir.ldif"}, {}, str(tmp_path))
    results = {r.cs_id: r for r in connector.export([
        ExportChange(1, ExportKind.MODIFY, "uid=a,dc=x", "user", attributes={"cn": ["A"]}),
        ExportChange(2, ExportKind.MODIFY, "uid=b,dc=x", "user", attributes={"cn": ["B"]})])}
    assert not results[1].ok and results[1].error_code == "ldif-record-unreadable"
    assert "URL values are not read" in (results[1].error_detail or "")
    assert results[2].ok
    assert "root only" not in (tmp_path / "dir.ldif").read_text()
