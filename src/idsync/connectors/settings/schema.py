"""A connector type's settings schema: every key with its kind, default, allowed values and a
one-line description. The same declaration validates a setting when it is set (``connector
add|set``, ``config import``), parses it when the connector is built, and prints the
reference page (``idsync connector settings``), so the three cannot drift apart.

A small declarative schema rather than pydantic or jsonschema: the settings are a flat mapping
of a dozen kinds, the messages must be one line naming the key, what is wrong and what is
expected, and the reference page needs the same text the message uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.errors import ConfigurationError


class SettingError(ConfigurationError):
    """A setting that does not fit its connector type's schema (refused, never stored)."""


class Kind(StrEnum):
    """The shape of a setting's value, as YAML gives it."""

    TEXT = "text"
    URL = "URL"
    DN = "DN"
    DN_LIST = "list of DNs"
    NAME_LIST = "list of names"
    MAPPING = "mapping"
    INTEGER = "whole number"
    NUMBER = "number"
    BOOLEAN = "true or false"
    PATH = "path"
    ABSOLUTE_DIRECTORY = "absolute path of an existing directory"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: Kind
    description: str
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: URL schemes allowed (Kind.URL).
    schemes: tuple[str, ...] = ()
    #: Mapping values: a single name (file: objectClass -> type) or a name list (ldap).
    mapping_values: Kind = Kind.TEXT
    #: Another name for this key (kept for old configurations); never both at once.
    alias: str | None = None

    def expected(self) -> str:
        """What a valid value looks like, for messages and the reference page."""
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind is Kind.URL:
            return "a URL starting with " + " or ".join(f"{s}://" for s in self.schemes)
        if self.kind in (Kind.INTEGER, Kind.NUMBER) and self.minimum is not None:
            top = f" to {self.maximum:g}" if self.maximum is not None else " or more"
            return f"a {self.kind.value} from {self.minimum:g}{top}"
        if self.kind is Kind.DN_LIST:
            return 'a YAML list of quoted DNs, e.g. ["ou=a,dc=x", "ou=b,dc=x"] (one DN alone ' \
                   "may be given as a string)"
        if self.kind is Kind.NAME_LIST:
            return "a YAML list of names, e.g. [a, b]"
        if self.kind is Kind.MAPPING:
            inner = "a list of names" if self.mapping_values is Kind.NAME_LIST else "a name"
            return f"a YAML mapping of name to {inner}, e.g. {{key: value}}"
        return {Kind.BOOLEAN: "true or false", Kind.DN: "a DN such as cn=a,dc=x",
                Kind.TEXT: "a text value", Kind.PATH: "a file path",
                Kind.ABSOLUTE_DIRECTORY: "the absolute path of an existing directory",
                }.get(self.kind,
                                                                       f"a {self.kind.value}")


@dataclass(frozen=True, slots=True)
class ConnectorSchema:
    """Every setting of one connector type, in reference-page order."""

    type: str
    summary: str
    settings: tuple[Setting, ...]
    #: Keys refused with their own reason (e.g. TLS verification cannot be turned off).
    refused: Mapping[str, str]
    #: Checks across settings, run after each setting passed on its own.
    checks: tuple[Callable[[dict[str, Any]], None], ...] = ()
    #: Markdown notes printed under the table on the reference page.
    notes: str = ""

    def setting(self, key: str) -> Setting | None:
        for setting in self.settings:
            if key in (setting.name, setting.alias):
                return setting
        return None

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check every key of ``raw``; return the values by setting name, defaults filled in.
        Raises SettingError on the first bad key, naming it and what is expected."""
        values: dict[str, Any] = {}
        for key, value in raw.items():
            key = str(key)
            if key in self.refused:
                raise SettingError(f"{self.type} setting {key!r} is not supported: "
                                   f"{self.refused[key]}")
            setting = self.setting(key)
            if setting is None:
                raise SettingError(
                    f"unknown {self.type} setting {key!r}; known settings: "
                    + ", ".join(s.name for s in self.settings)
                    + f" (see `idsync connector settings {self.type}`)")
            if setting.name in values:
                raise SettingError(f"{self.type} setting {setting.name!r} is given twice "
                                   f"(also as {setting.alias!r}); keep one")
            if value is None:
                continue  # an empty YAML value (``key=``... ``~``) means "the default"
            values[setting.name] = _convert(self.type, setting, value)
        for setting in self.settings:
            if setting.name not in values:
                if setting.required:
                    raise SettingError(f"{self.type} setting {setting.name!r} is required: "
                                       f"{setting.description} ({setting.expected()})")
                values[setting.name] = setting.default
        for check in self.checks:
            check(values)
        return values


def _fail(type_: str, setting: Setting, value: Any, what: str) -> SettingError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return SettingError(f"{type_} setting {setting.name!r}: {shown} {what}; expected "
                        f"{setting.expected()}")


def _convert(type_: str, setting: Setting, value: Any) -> Any:
    kind = setting.kind
    if kind in (Kind.DN_LIST, Kind.NAME_LIST):
        converted: Any = _list(type_, setting, value)
    elif kind is Kind.MAPPING:
        converted = _mapping(type_, setting, value)
    elif isinstance(value, list | tuple | dict | set):
        raise _fail(type_, setting, value, "is a " + ("list" if not isinstance(value, dict)
                                                      else "mapping")
                    + " where a single value is expected")
    elif kind is Kind.BOOLEAN:
        converted = _boolean(type_, setting, value)
    elif kind in (Kind.INTEGER, Kind.NUMBER):
        converted = _number(type_, setting, value)
    else:
        converted = _text(type_, setting, value)
    if setting.choices and converted not in setting.choices:
        raise _fail(type_, setting, value, "is not allowed")
    return converted


def _text(type_: str, setting: Setting, value: Any) -> str:
    if isinstance(value, bool):
        raise _fail(type_, setting, value, "is a boolean")
    text = str(value)
    if setting.kind is Kind.URL and not text.lower().startswith(
            tuple(f"{s}://" for s in setting.schemes)):
        raise _fail(type_, setting, value, "is not a URL of the right scheme")
    if setting.kind is Kind.DN and text:
        problem = dn_problem(text)
        if problem:
            raise _fail(type_, setting, value, problem)
    if setting.kind is Kind.ABSOLUTE_DIRECTORY:
        if not os.path.isabs(text):
            raise _fail(type_, setting, value, "is not an absolute path")
        if not os.path.isdir(text):
            raise _fail(type_, setting, value, "is not an existing directory")
    if setting.kind in (Kind.PATH, Kind.URL) and not text.strip():
        raise _fail(type_, setting, value, "is empty")
    return text


def _boolean(type_: str, setting: Setting, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise _fail(type_, setting, value, "is not a boolean")


def _number(type_: str, setting: Setting, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _fail(type_, setting, value, "is a boolean")
    try:
        number: int | float = (int(str(value).strip()) if setting.kind is Kind.INTEGER
                               and not isinstance(value, float) else float(value))
    except ValueError:
        raise _fail(type_, setting, value, f"is not a {setting.kind.value}") from None
    if setting.kind is Kind.INTEGER and isinstance(value, float):
        if not value.is_integer():
            raise _fail(type_, setting, value, "is not a whole number")
        number = int(value)
    if (setting.minimum is not None and number < setting.minimum) or (
            setting.maximum is not None and number > setting.maximum):
        raise _fail(type_, setting, value, "is out of range")
    return number


def _list(type_: str, setting: Setting, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and setting.kind is Kind.DN_LIST:
        items: list[Any] = [value]  # one DN alone, the common case
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _fail(type_, setting, value, "is not a list")  # e.g. one name without [ ]
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise _fail(type_, setting, value, f"holds {item!r}, not a name")
    if setting.kind is Kind.DN_LIST:
        for item in items:
            problem = dn_problem(item)
            if problem:
                raise _fail(type_, setting, value, f"holds {item!r}, which {problem}")
        if len(items) > 1:
            for item in items:
                if "," not in item.replace("\\,", "") and item.split("=", 1)[0].strip().lower() \
                        == "dc":
                    # An unquoted YAML list [ou=a,dc=x] splits at every comma: the pieces
                    # are one-RDN "DNs". A lone dc= RDN next to others is such a piece.
                    raise _fail(type_, setting, value,
                                f"holds {item!r}, a piece of a DN split at its commas: "
                                "quote each DN inside the YAML list")
    return tuple(items)


def _mapping(type_: str, setting: Setting, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise _fail(type_, setting, value, "is not a non-empty mapping")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if setting.mapping_values is Kind.NAME_LIST:
            if isinstance(item, str):
                item = [item]
            if not isinstance(item, list | tuple) or not item or not all(
                    isinstance(v, str) and v for v in item):
                raise _fail(type_, setting, value, f"maps {key!r} to {item!r}, not names")
            out[str(key)] = tuple(item)
        else:
            if not isinstance(item, str) or not item:
                raise _fail(type_, setting, value, f"maps {key!r} to {item!r}, not a name")
            out[str(key)] = item
    return out


def dn_problem(dn: str) -> str | None:
    """Why ``dn`` is not a DN (None when it is one): every comma-separated RDN must be
    ``type=value``. No python-ldap here: settings are checked where it is not installed."""
    if not dn.strip():
        return "is empty"
    rdns = [""]
    escaped = False
    for char in dn:
        if escaped:
            rdns[-1] += char
            escaped = False
        elif char == "\\":
            rdns[-1] += char
            escaped = True
        elif char == ",":
            rdns.append("")
        else:
            rdns[-1] += char
    for rdn in rdns:
        for part in rdn.split("+"):
            attribute, sep, _value = part.partition("=")
            if not sep or not attribute.strip() or not attribute.strip().replace("-", "") \
                    .replace(".", "").isalnum():
                return "is not a DN (each comma-separated part must be type=value)"
    return None
