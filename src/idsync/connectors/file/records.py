"""LDIF records as import records: a content record's attributes without the ``;binary``
transfer option, the controls a changelog record carries, and a modify record's ordered
modifications folded into one MODIFY import record."""

from __future__ import annotations

from idsync.connectors.base import ImportRecord, Value
from idsync.filedir.ldif import ChangeRecord, Modification


def strip_binary_option(attributes: dict[str, list[Value]]) -> dict[str, list[Value]]:
    # ``;binary`` is a transfer option, not part of the attribute's identity.
    if not any(";" in name for name in attributes):
        return attributes
    out: dict[str, list[Value]] = {}
    for name, values in attributes.items():
        base = ";".join(p for p in name.split(";") if p.lower() != "binary")
        out.setdefault(base, []).extend(values)
    return out


def control_value(record: ChangeRecord, oid: str) -> str | None:
    for control in record.controls:
        if control.oid == oid and control.value is not None:
            value = control.value
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return None


def fold_modifications(target: ImportRecord, modifications: list[Modification]) -> None:
    """Turn an ordered list of LDAP modifications into one MODIFY import record.

    Per attribute we track either its whole new value list (after a replace or a delete of
    the whole attribute) or the value adds and removes; later parts fold into earlier ones
    so the record means the same as applying the parts in order."""
    whole: dict[str, list[Value]] = {}
    adds: dict[str, list[Value]] = {}
    removes: dict[str, list[Value]] = {}
    names: dict[str, str] = {}
    for mod in modifications:
        name = names.setdefault(_base_name(mod.attribute).lower(), _base_name(mod.attribute))
        if mod.op == "replace" or (mod.op == "delete" and not mod.values):
            whole[name] = _unique(mod.values if mod.op == "replace" else [])
            adds.pop(name, None)
            removes.pop(name, None)
        elif name in whole:
            if mod.op == "add":
                whole[name] = _unique(whole[name] + mod.values)
            else:
                whole[name] = [v for v in whole[name] if v not in mod.values]
        elif mod.op == "add":
            removes[name] = [v for v in removes.get(name, []) if v not in mod.values]
            adds[name] = _unique(adds.get(name, []) + mod.values)
        else:
            adds[name] = [v for v in adds.get(name, []) if v not in mod.values]
            removes[name] = _unique(removes.get(name, []) + mod.values)
    target.attributes = whole
    target.value_adds = {k: v for k, v in adds.items() if v}
    target.value_removes = {k: v for k, v in removes.items() if v}


def _base_name(attribute: str) -> str:
    return ";".join(p for p in attribute.split(";") if p.lower() != "binary")


def _unique(values: list[Value]) -> list[Value]:
    return list(dict.fromkeys(values))
