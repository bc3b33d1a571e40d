"""RFC 2849 reader and writer: edge cases, errors with line numbers, offsets."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from idsync.filedir.ldif import (
    AddRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    LdifWriter,
    ModDnRecord,
    Modification,
    ModifyRecord,
    format_record,
    iter_raw_records,
    read_ldif,
)


def read(text: bytes | str, **kwargs) -> list:
    data = text.encode() if isinstance(text, str) else text
    return list(read_ldif(io.BytesIO(data), **kwargs))


def test_content_record_with_folding_comments_and_version() -> None:
    records = read(
        "version: 1\n"
        "# a comment\n"
        "#  that is folded\n"
        " over two lines\n"
        "dn: cn=John Smith,ou=Users,dc=x\n"
        "objectClass: top\n"
        "objectClass: inetOrgPerson\n"
        "description: a long\n"
        "  line\n"
        "cn: John Smith\n"
        "CN: Johnny\n"
        "\n\n\n"
        "dn: cn=b,dc=x\n"
        "cn: b\n"
    )
    assert records == [
        ContentRecord("cn=John Smith,ou=Users,dc=x", {
            "objectClass": ["top", "inetOrgPerson"],
            "description": ["a long line"],
            "cn": ["John Smith", "Johnny"],  # attribute names are case-insensitive
        }),
        ContentRecord("cn=b,dc=x", {"cn": ["b"]}),
    ]
    assert records[0].line == 5
    assert records[1].line == 15


def test_crlf_line_endings() -> None:
    records = read(b"dn: cn=a,dc=x\r\ncn: a\r\ndescription: fol\r\n ded\r\n\r\ndn: cn=b,dc=x\r\n"
                   b"cn: b\r\n")
    assert [r.attributes for r in records] == [{"cn": ["a"], "description": ["folded"]},
                                               {"cn": ["b"]}]


def test_base64_values_str_or_bytes() -> None:
    utf8 = base64.b64encode("Zoë".encode()).decode()
    raw = base64.b64encode(b"\xff\x00\x01").decode()
    guid = base64.b64encode(b"abcd").decode()
    [record] = read(
        f"dn: cn=a,dc=x\ncn:: {utf8}\nblob:: {raw}\nobjectGUID:: {guid}\n"
        f"userCertificate;binary:: {guid}\n",
        binary_attributes=["objectguid"],
    )
    assert record.attributes == {
        "cn": ["Zoë"],  # valid UTF-8 -> str
        "blob": [b"\xff\x00\x01"],  # not UTF-8 -> bytes
        "objectGUID": [b"abcd"],  # declared binary -> bytes even though valid UTF-8
        "userCertificate;binary": [b"abcd"],  # ;binary option -> bytes
    }


def test_base64_dn_and_empty_value() -> None:
    dn = base64.b64encode("cn=Zoë,dc=x".encode()).decode()
    [record] = read(f"dn:: {dn}\ncn:\ndescription:  spaced\n")
    assert record.dn == "cn=Zoë,dc=x"
    assert record.attributes == {"cn": [""], "description": ["spaced"]}


def test_file_url_values_under_the_allowed_directory(tmp_path: Path) -> None:
    photo = tmp_path / "photo bin.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    note = tmp_path / "note.txt"
    note.write_text("hello")
    [record] = read(f"dn: cn=a,dc=x\njpegPhoto:< file://{str(photo).replace(' ', '%20')}\n"
                    f"description:< file://localhost{note}\n", file_urls_under=str(tmp_path))
    assert record.attributes == {"jpegPhoto": [b"\xff\xd8\xff"], "description": ["hello"]}


def test_url_values_are_refused_by_default(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("secret")
    with pytest.raises(LdifError, match="URL values are not read") as info:
        read(f"dn: cn=a,dc=x\ncn: a\ndescription:< file://{note}\n")
    assert info.value.line == 3 and "description:< file://" in info.value.message


@pytest.mark.parametrize("url", ["http://example.com/x", "file://otherhost/etc/passwd",
                                 "file:///etc/passwd", "ftp://example.com/x"])
def test_urls_outside_the_allowed_directory_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(LdifError, match="jpegPhoto:<") as info:
        read(f"dn: cn=a,dc=x\ncn: a\njpegPhoto:< {url}\n", file_urls_under=str(tmp_path))
    assert info.value.line == 3


def test_missing_url_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LdifError, match="cannot read") as info:
        read(f"dn: cn=a,dc=x\njpegPhoto:< file://{tmp_path}/nope\n",
             file_urls_under=str(tmp_path))
    assert info.value.line == 2


def test_change_records_of_every_kind() -> None:
    records = read(
        "version: 1\n\n"
        "dn: cn=new,dc=x\nchangetype: add\nobjectClass: person\ncn: new\n\n"
        "dn: cn=gone,dc=x\nchangetype: delete\n\n"
        "dn: cn=g,dc=x\ncontrol: 1.2.840.113556.1.4.805 true\nchangetype: modify\n"
        "add: member\nmember: cn=a,dc=x\nmember: cn=b,dc=x\n-\n"
        "delete: member\nmember: cn=c,dc=x\n-\n"
        "delete: description\n-\n"
        "replace: cn\ncn: G\n-\n"
        "replace: mail\n-\n\n"
        "dn: cn=old,dc=x\ncontrol: 1.2.3 false: opaque\nchangetype: modrdn\nnewrdn: cn=new\n"
        "deleteoldrdn: 0\nnewsuperior: ou=other,dc=x\n\n"
        "dn: cn=m,dc=x\nchangetype: moddn\nnewrdn: cn=m2\ndeleteoldrdn: 1\n"
    )
    assert records == [
        AddRecord("cn=new,dc=x", {"objectClass": ["person"], "cn": ["new"]}),
        DeleteRecord("cn=gone,dc=x"),
        ModifyRecord("cn=g,dc=x", [
            Modification("add", "member", ["cn=a,dc=x", "cn=b,dc=x"]),
            Modification("delete", "member", ["cn=c,dc=x"]),
            Modification("delete", "description", []),
            Modification("replace", "cn", ["G"]),
            Modification("replace", "mail", []),
        ], [Control("1.2.840.113556.1.4.805", True, None)]),
        ModDnRecord("cn=old,dc=x", "cn=new", False, "ou=other,dc=x",
                    [Control("1.2.3", False, "opaque")]),
        ModDnRecord("cn=m,dc=x", "cn=m2", True, None),
    ]


def test_modify_tolerates_a_missing_final_dash() -> None:
    [record] = read("dn: cn=g,dc=x\nchangetype: modify\nreplace: cn\ncn: G\n")
    assert record.modifications == [Modification("replace", "cn", ["G"])]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("dn: cn=a,dc=x\ncn: a\nno colon here\n", 3, "expected 'attribute: value'"),
    ("dn: cn=a,dc=x\ncn:: !!!notbase64\n", 2, "invalid base64"),
    ("dn: cn=a,dc=x\ncn: a\n\n continued\n", 4, "continuation"),
    ("cn: a\ndn: cn=a,dc=x\n", 1, "must start with 'dn:'"),
    ("dn: cn=a,dc=x\nchangetype: frobnicate\n", 2, "unknown changetype"),
    ("dn: cn=a,dc=x\nchangetype: delete\ncn: a\n", 3, "takes no attributes"),
    ("dn: cn=a,dc=x\nchangetype: modify\nadd: member\ncn: x\n-\n", 4, "missing '-'"),
    ("dn: cn=a,dc=x\nchangetype: modify\nincrement: uidNumber\n", 3, "expected add:"),
    ("dn: cn=a,dc=x\nchangetype: modify\n-\n", 3, "no modification"),
    ("dn: cn=a,dc=x\nchangetype: modrdn\ndeleteoldrdn: 1\n", 2, "without newrdn"),
    ("dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 2\n", 2, "0 or 1"),
    ("dn: cn=a,dc=x\ncontrol: 1.2.3\ncn: a\n", 2, "only allowed in change records"),
    ("dn: cn=a,dc=x\nbad_name!: a\n", 2, "invalid attribute description"),
    ("dn: cn=a,dc=x\n", 1, "no attributes"),
    ("version: 2\n\ndn: cn=a,dc=x\ncn: a\n", 1, "unsupported LDIF version"),
    (b"dn: cn=a,dc=x\ncn: \xff\xfe\n", 2, "not valid UTF-8"),
])
def test_malformed_input_names_the_line(text: str | bytes, line: int, message: str) -> None:
    with pytest.raises(LdifError, match=message) as info:
        read(text)
    assert info.value.line == line
    assert f"line {line}" in str(info.value)


def test_offsets_resume_reading_exactly() -> None:
    data = b"".join(format_record(DeleteRecord(f"cn=u{i},dc=x")) for i in range(5))
    records = read(data)
    assert records[-1].end_offset == len(data) - 1  # the blank separator follows
    resumed = list(read_ldif(io.BytesIO(data[records[1].end_offset:]), start=0))
    assert [r.dn for r in resumed] == [f"cn=u{i},dc=x" for i in range(2, 5)]


def test_reading_a_path_between_offsets(tmp_path: Path) -> None:
    path = tmp_path / "c.ldif"
    path.write_bytes(b"".join(format_record(DeleteRecord(f"cn=u{i},dc=x")) for i in range(6)))
    every = list(read_ldif(path))
    middle = list(read_ldif(path, start=every[1].end_offset, end=every[3].end_offset))
    assert [r.dn for r in middle] == ["cn=u2,dc=x", "cn=u3,dc=x"]
    assert middle[-1].end_offset == every[3].end_offset


def test_records_larger_than_the_read_block() -> None:
    members = [f"uid=user{i:07d},ou=Users,dc=contoso,dc=com" for i in range(60_000)]
    data = (format_record(ContentRecord("cn=big,dc=x", {"member": members}))
            + format_record(ContentRecord("cn=small,dc=x", {"cn": ["small"]})))
    assert len(data) > 2 * (1 << 20)
    big, small = read(data)
    assert big.attributes["member"] == members
    assert small.dn == "cn=small,dc=x"


def test_comment_only_blocks_are_kept_as_raw_records() -> None:
    data = b"# header\n\ndn: cn=a,dc=x\ncn: a\n"
    raws = list(iter_raw_records(io.BytesIO(data)))
    assert raws[0].lines == []
    assert b"".join(r.raw + b"\n" for r in raws)[:-1] == data
    assert [r.dn for r in read(data)] == ["cn=a,dc=x"]


# --- writer -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    " leading space", ":leading colon", "<leading lt", "trailing space ", "Zoë", "line\nbreak",
    "carriage\rreturn", "nul\x00byte", "tab\tis fine?",
])
def test_writer_base64_encodes_unsafe_values(value: str) -> None:
    text = format_record(ContentRecord("cn=a,dc=x", {"description": [value]}))
    needs = value != "tab\tis fine?"
    assert (b"description:: " in text) is needs
    assert read(text)[0].attributes["description"] == [value]


def test_writer_writes_bytes_as_base64_and_dns_safely() -> None:
    record = ContentRecord("cn=Zoë,dc=x", {"jpegPhoto": [b"\x00\x01"], "cn": ["Zoë"]})
    text = format_record(record)
    assert text.startswith(b"dn:: ")
    assert b"jpegPhoto:: AAE=" in text
    assert read(text, binary_attributes=["jpegPhoto"]) == [record]


def test_writer_folds_at_76_columns() -> None:
    value = "x" * 500
    text = format_record(ContentRecord("cn=a,dc=x", {"description": [value]}))
    lines = text.split(b"\n")
    assert max(len(line) for line in lines) == 76
    assert all(line.startswith(b" ") for line in lines[2:-3])
    assert read(text)[0].attributes["description"] == [value]


def test_writer_refuses_bad_attribute_names() -> None:
    with pytest.raises(LdifError, match="invalid attribute"):
        format_record(ContentRecord("cn=a,dc=x", {"bad name": ["x"]}))
    with pytest.raises(LdifError, match="cannot start with changetype"):
        format_record(ContentRecord("cn=a,dc=x", {"changetype": ["x"]}))


def test_writer_with_version_header_round_trips() -> None:
    out = io.BytesIO()
    records = [ContentRecord("cn=a,dc=x", {"cn": ["a"]}),
               ModifyRecord("cn=a,dc=x", [Modification("add", "mail", ["a@x"])],
                            [Control("1.2.3", True, b"\xff")]),
               ModDnRecord("cn=a,dc=x", "cn=b", True, "ou=y,dc=x")]
    LdifWriter(out, version=True).write_all(records)
    assert out.getvalue().startswith(b"version: 1\n\n")
    assert read(out.getvalue()) == records
