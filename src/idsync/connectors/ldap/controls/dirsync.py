"""The Active Directory DirSync control (1.2.840.113556.1.4.841, MS-ADTS 3.1.1.3.4.1.3).

Request value: SEQUENCE { flags INTEGER, maxBytes INTEGER, cookie OCTET STRING }.
Response value: SEQUENCE { moreResults INTEGER, unused INTEGER, cookie OCTET STRING }.
With ``LDAP_DIRSYNC_INCREMENTAL_VALUES`` the server returns only the values added to or removed
from multi-valued attributes (``member;range=1-1`` adds, ``member;range=0-0`` removes).
"""

from __future__ import annotations

from ldap.controls import LDAPControl, RequestControl, ResponseControl
from pyasn1.codec.ber import decoder
from pyasn1.type import namedtype, univ

DIRSYNC_OID = "1.2.840.113556.1.4.841"
OBJECT_SECURITY = 0x00000001
ANCESTORS_FIRST_ORDER = 0x00000800
PUBLIC_DATA_ONLY = 0x00002000
INCREMENTAL_VALUES = 0x80000000


class _ResponseValue(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("moreResults", univ.Integer()),
        namedtype.NamedType("unused", univ.Integer()),
        namedtype.NamedType("cookie", univ.OctetString()),
    )


def _signed32(flags: int) -> int:
    # Windows reads the flags as a signed 32-bit integer, so INCREMENTAL_VALUES goes on the wire
    # as a negative number (a 5-byte positive INTEGER is refused by some servers).
    flags &= 0xFFFFFFFF
    return flags - (1 << 32) if flags & 0x80000000 else flags


def _int_bytes(value: int) -> bytes:
    # Minimal two's complement: pyasn1 0.6 pads negatives with an extra 0xff byte, and a 5-byte
    # flags field is more than a 32-bit server-side parser wants to read.
    length = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return value.to_bytes(length, "big", signed=True)


def _ber(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


class DirSyncRequestControl(RequestControl):
    controlType = DIRSYNC_OID

    def __init__(self, cookie: bytes = b"", flags: int = INCREMENTAL_VALUES,
                 max_bytes: int = 0x7FFFFFFF, criticality: bool = True) -> None:
        super().__init__(self.controlType, criticality)
        self.cookie = cookie
        self.flags = flags
        self.max_bytes = max_bytes

    def encodeControlValue(self) -> bytes:
        body = (_ber(0x02, _int_bytes(_signed32(self.flags)))
                + _ber(0x02, _int_bytes(self.max_bytes))
                + _ber(0x04, self.cookie or b""))
        return _ber(0x30, body)


class DirSyncResponseControl(ResponseControl):
    controlType = DIRSYNC_OID

    def __init__(self, controlType: str = DIRSYNC_OID, criticality: bool = False,
                 encodedControlValue: bytes | None = None) -> None:
        super().__init__(controlType, criticality)
        self.more_results = False
        self.cookie = b""
        if encodedControlValue is not None:
            self.decodeControlValue(encodedControlValue)

    def decodeControlValue(self, encodedControlValue: bytes) -> None:
        value, _ = decoder.decode(encodedControlValue, asn1Spec=_ResponseValue())
        self.more_results = bool(int(value.getComponentByName("moreResults")))
        self.cookie = bytes(value.getComponentByName("cookie"))


def find_response(controls: list[LDAPControl]) -> DirSyncResponseControl | None:
    """The DirSync response among a search result's controls (decoded if python-ldap did not
    know the OID)."""
    for control in controls:
        if control.controlType != DIRSYNC_OID:
            continue
        if isinstance(control, DirSyncResponseControl):
            return control
        raw = getattr(control, "encodedControlValue", None) or getattr(control, "controlValue",
                                                                        None)
        return DirSyncResponseControl(encodedControlValue=raw)
    return None
