"""Every documented example of the reference (functional-reference.md section 3) evaluates to
its documented result. Now/RandomNum/Guid are checked by shape."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from expr_helpers import evaluate

from idsync.expressions import IGNORE_THIS_FLOW, ErrorFunctionTriggered, Ref

UTC = dt.UTC
DN = "cn=Joe,ou=Atlanta,ou=GA,ou=US, dc=contoso,dc=com"
PROXIES = ["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"]
REPLACE_STRING = "\u2019:,Å:A,Ä:A,Ö:O,å:a,ä:a,ö:o"
# 2014-09-05 08:14:53 UTC as an AD FILETIME
PWD_LAST_SET = 130543784930000000

EXAMPLES: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = [
    ("BitAnd(&HF, &HF7)", {}, {}, 7),
    ("CBool([attrib1] = [attrib2])", {"attrib1": "a", "attrib2": "a"}, {}, True),
    ("CBool([attrib1] = [attrib2])", {"attrib1": "a", "attrib2": "b"}, {}, False),
    ('CDate("2013-01-10 4:00 PM -8")', {}, {}, dt.datetime(2013, 1, 11, 0, 0, tzinfo=UTC)),
    ('ConvertFromBase64("SABlAGwAbABvACAAdwBvAHIAbABkACEA")', {}, {}, "Hello world!"),
    ('ConvertFromBase64("SGVsbG8gd29ybGQh", UTF8)', {}, {}, "Hello world!"),
    ('ConvertFromUTF8Hex("48656C6C6F20776F726C6421")', {}, {}, "Hello world!"),
    ('ConvertToBase64("Hello world!")', {}, {}, "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
    ('ConvertToUTF8Hex("Hello world!")', {}, {}, "48656C6C6F20776F726C6421"),
    ("CStr([dn])", {"dn": Ref("cn=Joe,dc=contoso,dc=com")}, {}, "cn=Joe,dc=contoso,dc=com"),
    ('DateAdd("m", 3, CDate("2001-01-01"))', {}, {}, dt.datetime(2001, 4, 1, tzinfo=UTC)),
    ("DateFromNum(129699324000000000)", {}, {}, dt.datetime(2012, 1, 1, 23, tzinfo=UTC)),
    ('NumFromDate(CDate("2012-01-01 23:00:00"))', {}, {}, 129699324000000000),
    ("DNComponent(CRef([dn]),1)", {"dn": "cn=Joe,ou=Atlanta,dc=contoso"}, {}, "Joe"),
    ("DNComponentRev(CRef([dn]),3)", {"dn": DN}, {}, "US"),
    ('DNComponentRev(CRef([dn]),1,"DC")', {"dn": DN}, {}, "US"),
    ('FormatDateTime(CDate("12/25/2007"),"yyyy-MM-dd")', {}, {}, "2007-12-25"),
    (
        'FormatDateTime(DateFromNum([pwdLastSet]),"yyyyMMddHHmmss.0Z")',
        {"pwdLastSet": PWD_LAST_SET},
        {},
        "20140905081453.0Z",
    ),
    (
        'IIF([employeeType]="Intern","t-" & [alias],[alias])',
        {"employeeType": "Intern", "alias": "jdoe"},
        {},
        "t-jdoe",
    ),
    (
        'IIF([employeeType]="Intern","t-" & [alias],[alias])',
        {"employeeType": "Employee", "alias": "jdoe"},
        {},
        "jdoe",
    ),
    ('InStr("The quick brown fox","quick")', {}, {}, 5),
    ('InStr("repEated","e",3,vbBinaryCompare)', {}, {}, 7),
    ('InStrRev("abbcdbbbef","bb")', {}, {}, 7),
    ("IsBitSet(&HF,4)", {}, {}, True),
    ("IsNull([displayName])", {}, {}, True),
    ("IsNull([displayName])", {"displayName": "Joe"}, {}, False),
    ("IsNullOrEmpty([displayName])", {}, {}, True),
    ("IsNullOrEmpty([displayName])", {"displayName": ""}, {}, True),
    ("IsNullOrEmpty([displayName])", {"displayName": "Joe"}, {}, False),
    (
        'Join([proxyAddresses],",")',
        {"proxyAddresses": PROXIES},
        {},
        "SMTP:john.doe@contoso.com,smtp:jd@contoso.com",
    ),
    ('LCase("TeSt")', {}, {}, "test"),
    ('UCase("TeSt")', {}, {}, "TEST"),
    ('Left("John Doe", 3)', {}, {}, "Joh"),
    ('Right("John Doe", 3)', {}, {}, "Doe"),
    ('Len("John Doe")', {}, {}, 8),
    ('LTrim(" Test ")', {}, {}, "Test "),
    ('RTrim(" Test ")', {}, {}, " Test"),
    ('Trim(" Test ")', {}, {}, "Test"),
    ('Mid("John Doe", 3, 5)', {}, {}, "hn Do"),
    ('Mid("John Doe", 6, 999)', {}, {}, "Doe"),
    ('PadLeft("User", 10, "0")', {}, {}, "000000User"),
    ('PadRight("User", 10, "0")', {}, {}, "User000000"),
    ('PCase("TEsT")', {}, {}, "Test"),
    ('PCase(LCase("TEST"))', {}, {}, "Test"),
    (
        'Replace([address],"\\r\\n",", ")',
        {"address": "One Microsoft Way\r\nRedmond, WA\r\nUSA"},
        {},
        "One Microsoft Way, Redmond, WA, USA",
    ),
    (
        'ReplaceChars("Räksmörgås",%ReplaceString%)',
        {},
        {"ReplaceString": REPLACE_STRING},
        "Raksmorgas",
    ),
    ('ReplaceChars("O\u2019Neil",%ReplaceString%)', {}, {"ReplaceString": REPLACE_STRING}, "ONeil"),
    ('Split("SMTP:john.doe@contoso.com,smtp:jd@contoso.com",",")', {}, {}, PROXIES),
    ('Word("The quick brown fox",3," ")', {}, {}, "brown"),
    ('Word("This,string!has&many separators",3,",!&#")', {}, {}, "has"),
    (
        'Mid(Item([proxyAddresses],Contains([proxyAddresses], "SMTP:")),6)',
        {"proxyAddresses": PROXIES},
        {},
        "john.doe@contoso.com",
    ),
    (
        'IIF(Contains([proxyAddresses],"SMTP:")>0,[proxyAddresses],'
        'Error("No primary SMTP address found."))',
        {"proxyAddresses": PROXIES},
        {},
        PROXIES,
    ),
    (
        'IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))',
        {"accountName": "jdoe"},
        {},
        "jdoe",
    ),
    (
        "IIF(IsGuid([strAttribute]),CGuid([strAttribute]),NULL)",
        {"strAttribute": "{12345678-1234-5678-9abc-def012345678}"},
        {},
        uuid.UUID("12345678-1234-5678-9abc-def012345678").bytes_le,
    ),
    ("IIF(IsGuid([strAttribute]),CGuid([strAttribute]),NULL)", {"strAttribute": "nope"}, {}, None),
    (
        'Select($item,[otherPhone],Replace($item,"-",""))',
        {"otherPhone": ["555-1234", "555-9-9"]},
        {},
        ["5551234", "55599"],
    ),
    ("Trim([proxyAddresses])", {"proxyAddresses": [" a ", "b "]}, {}, ["a", "b"]),
    (
        'EscapeDNComponent("cn=" & [displayName]) & "," & %ForestLDAP%',
        {"displayName": "Doe, John"},
        {"ForestLDAP": "DC=contoso,DC=com"},
        "cn=Doe\\, John,DC=contoso,DC=com",
    ),
    (
        'CRef("CN=LC Services,CN=Microsoft,CN=lcspool01,CN=Pools,CN=RTC Service," & %Forest.LDAP%)',
        {},
        {"Forest.LDAP": "DC=contoso,DC=com"},
        Ref("CN=LC Services,CN=Microsoft,CN=lcspool01,CN=Pools,CN=RTC Service,DC=contoso,DC=com"),
    ),
    (
        'Word([proxyAddresses],1,"@") & "@contoso.com"',
        {"proxyAddresses": ["smtp:a@fabrikam.com", "SMTP:b@x.org"]},
        {},
        ["smtp:a@contoso.com", "SMTP:b@contoso.com"],
    ),
    (
        'Word([userPrincipalName],1,"@") & "@contosotest.com"',
        {"userPrincipalName": "joe@contoso.com"},
        {},
        "joe@contosotest.com",
    ),
    ("Left([attributeName],448)", {"attributeName": "x" * 500}, {}, "x" * 448),
    (
        "IIF(IsNullOrEmpty([description]),NULL,Left(Trim(Item([description],1)),448))",
        {"description": ["  first  ", "second"]},
        {},
        "first",
    ),
    ("IIF(IsNullOrEmpty([description]),NULL,Left(Trim(Item([description],1)),448))", {}, {}, None),
    (
        "IIF(IsPresent([pwdLastSet]),CStr(FormatDateTime(DateFromNum([pwdLastSet]),"
        '"yyyyMMddHHmmss.0Z")),NULL)',
        {"pwdLastSet": PWD_LAST_SET},
        {},
        "20140905081453.0Z",
    ),
    (
        "IIF(IsPresent([pwdLastSet]),CStr(FormatDateTime(DateFromNum([pwdLastSet]),"
        '"yyyyMMddHHmmss.0Z")),NULL)',
        {},
        {},
        None,
    ),
    (
        "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)",
        {"cloudSOAExchMailbox": True, "cloudMSExchSafeSendersHash": b"\x01\x02"},
        {},
        b"\x01\x02",
    ),
    (
        "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)",
        {"cloudSOAExchMailbox": False},
        {},
        IGNORE_THIS_FLOW,
    ),
    # [I] notes: 1-based positions, equal-priority left-to-right operators
    ("2+3*4", {}, {}, 20),
    ("2+(3*4)", {}, {}, 14),
    ("Item([proxyAddresses],1)", {"proxyAddresses": PROXIES}, {}, PROXIES[0]),
]

SWITCH_CITY = (
    'Switch([city] = "London", "English", [city] = "Rome", "Italian", [city] = "Paris", '
    '"French", True, Error("Unknown city"))'
)
SWITCH_MANAGER = (
    "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),"
    "[skiplevelManager], IsPresent([director]),[director])"
)


@pytest.mark.parametrize(("source", "attributes", "parameters", "expected"), EXAMPLES)
def test_documented_example(
    source: str, attributes: dict[str, Any], parameters: dict[str, Any], expected: Any
) -> None:
    result = evaluate(source, attributes, parameters)
    assert result == expected
    assert type(result) is type(expected)


def test_cstr_of_a_reference_is_a_plain_string() -> None:
    assert type(evaluate("CStr([dn])", {"dn": Ref("cn=Joe")})) is str


@pytest.mark.parametrize(
    ("city", "language"), [("London", "English"), ("Rome", "Italian"), ("Paris", "French")]
)
def test_switch_city(city: str, language: str) -> None:
    assert evaluate(SWITCH_CITY, {"city": city}) == language


def test_switch_city_unknown_fires_error() -> None:
    with pytest.raises(ErrorFunctionTriggered) as raised:
        evaluate(SWITCH_CITY, {"city": "Oslo"})
    assert raised.value.message == "Unknown city"


def test_switch_manager_takes_the_first_present() -> None:
    both = {"skiplevelManager": Ref("cn=skip"), "director": Ref("cn=dir")}
    assert evaluate(SWITCH_MANAGER, both) == Ref("cn=skip")
    assert evaluate(SWITCH_MANAGER, {"directManager": Ref("cn=m"), **both}) == Ref("cn=m")
    assert evaluate(SWITCH_MANAGER, {}) is None


def test_primary_smtp_missing_fires_error() -> None:
    source = (
        'IIF(Contains([proxyAddresses],"SMTP:")>0,[proxyAddresses],'
        'Error("No primary SMTP address found."))'
    )
    with pytest.raises(ErrorFunctionTriggered, match=r"No primary SMTP address found\."):
        evaluate(source, {"proxyAddresses": ["smtp:only@secondary.com"]})


def test_account_name_required() -> None:
    with pytest.raises(ErrorFunctionTriggered) as raised:
        evaluate('IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))')
    assert raised.value.message == "AccountName is required"
    assert raised.value.code == "sync-rule-error-function-triggered"


def test_remove_duplicates_of_trimmed_imported_values() -> None:
    result = evaluate(
        'RemoveDuplicates(Trim(ImportedValue("proxyAddresses")))',
        {"proxyAddresses": ["pending-export@x"]},
        imported={"proxyAddresses": [" SMTP:a@x ", "SMTP:a@x", "smtp:b@x"]},
    )
    assert result == ["SMTP:a@x", "smtp:b@x"]


def test_where_keeps_unexpired_certificates(certificates: dict[str, bytes]) -> None:
    values = [certificates["expired"], certificates["valid"]]
    result = evaluate(
        "Where($item,[userCertificate],CertNotAfter($item)>Now())", {"userCertificate": values}
    )
    assert result == [certificates["valid"]]


WITH_CERTS = (
    "With($unExpiredCerts,Where($item,[userCertificate],CertNotAfter($item)>Now()),"
    "IIF(Count($unExpiredCerts)>0,$unExpiredCerts,NULL))"
)


def test_with_unexpired_certificates(certificates: dict[str, bytes]) -> None:
    values = [certificates["valid"], certificates["expired"], certificates["valid2"]]
    assert evaluate(WITH_CERTS, {"userCertificate": values}) == [
        certificates["valid"],
        certificates["valid2"],
    ]
    assert evaluate(WITH_CERTS, {"userCertificate": [certificates["expired"]]}) is None


def test_now_is_current_utc() -> None:
    before = dt.datetime.now(UTC)
    value = evaluate("Now()")
    assert before <= value <= dt.datetime.now(UTC)
    assert value.utcoffset() == dt.timedelta(0)


def test_random_num_is_in_range() -> None:
    values = {evaluate("RandomNum(100,999)") for _ in range(200)}
    assert all(isinstance(v, int) and 100 <= v <= 999 for v in values)
    assert len(values) > 1


def test_guid_has_guid_shape_and_differs() -> None:
    first, second = evaluate("Guid()"), evaluate("Guid()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", first)
    assert first != second
