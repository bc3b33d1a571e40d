"""The error code registry (idsync.error_codes) holds every code idsync records: the codes the
engine and the connectors write, the LDAP result codes, and the cloud directory's codes the
cloud connector passes through. Found in the source, so a new code without an entry fails here,
wherever the module that records it has moved."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import clouddir.errors
import clouddir.errors_http
from idsync.error_codes import (
    CLOUD,
    INFORMATIONAL_CODES,
    ErrorCode,
    Stage,
    is_informational,
    is_retryable,
    lookup,
)

ROOT = Path(__file__).resolve().parents[2]
IDSYNC = ROOT / "src" / "idsync"
CLOUDDIR = ROOT / "src" / "clouddir"

#: Calls whose first argument is a code, and the argument position of ``object_error``'s code.
_FIRST_ARG_CODE = {"Refused", "_Refused", "_BadChange", "UnreadableRecord", "ChangeRefused"}
_OBJECT_ERROR_CODE_ARG = 3


def _modules(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"), str(path))


def _module_constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = value.value
    return found


def _all_constants() -> dict[str, set[str]]:
    """Module-level string constants of every idsync module, by name."""
    found: dict[str, set[str]] = {}
    for _path, tree in _modules(IDSYNC):
        for name, value in _module_constants(tree).items():
            found.setdefault(name, set()).add(value)
    return found


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _code_expressions(tree: ast.Module) -> Iterator[ast.expr]:
    """The expressions a module passes where a code goes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name == "object_error" and len(node.args) > _OBJECT_ERROR_CODE_ARG:
                yield node.args[_OBJECT_ERROR_CODE_ARG]
            if name in _FIRST_ARG_CODE and node.args:
                yield node.args[0]
            for keyword in node.keywords:
                if keyword.arg == "error_code" or (name in {"clear", "has_error"}
                                                   and keyword.arg == "code"):
                    yield keyword.value
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)
              and node.targets[0].id in {"code", "error_code"}):
            # ``code = result.error_code or "export-failed"``; an exception's ``code = ...``
            yield node.value


def _codes_in(expr: ast.expr, constants: dict[str, set[str]]) -> set[str]:
    """The code strings an expression can give (``x or "export-failed"``: the literal)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.Name):
        return set(constants.get(expr.id, set()))
    if isinstance(expr, ast.BoolOp | ast.IfExp):
        parts = expr.values if isinstance(expr, ast.BoolOp) else [expr.body, expr.orelse]
        return set().union(*(_codes_in(p, constants) for p in parts))
    if (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)
            and expr.value.id == "ErrorCode"):
        return {ErrorCode[expr.attr].value}
    return set()  # another attribute (result.error_code), an f-string: not a literal


def recorded_codes() -> dict[str, list[str]]:
    """Every code literal the idsync source records, with where."""
    constants = _all_constants()
    found: dict[str, list[str]] = {}
    for path, tree in _modules(IDSYNC):
        for expr in _code_expressions(tree):
            for code in _codes_in(expr, constants):
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{expr.lineno}")
    return found


def test_every_code_the_source_records_is_in_the_registry() -> None:
    found = recorded_codes()
    # The scan sees the codes it is meant to see (a scan that finds nothing proves nothing).
    assert {"missing-object", "ambiguous-join-rules", "provisioning-no-dn", "export-failed",
            "undefined-attribute-type", "ldif-record-unreadable"} <= set(found), sorted(found)
    unknown = {code: where for code, where in found.items() if lookup(code) is None}
    assert not unknown, f"codes without a registry entry (idsync.error_codes): {unknown}"


def test_the_ldap_connectors_retryable_result_codes_are_the_registrys() -> None:
    ldap = pytest.importorskip("ldap")
    from idsync.connectors.base import ExportChange
    from idsync.connectors.ldap.export import LdapExporter
    from idsync.model import ExportKind

    class Refusing:
        """A connection whose server refuses every delete with one result code."""

        result: int | None = None

        def delete_s(self, dn: str) -> None:
            info = {"desc": "refused"} if self.result is None else {"result": self.result}
            raise ldap.LDAPError(info)

    conn = Refusing()
    settings = SimpleNamespace(max_values_per_request=10, uri="ldap://test")
    # a stand-in for the DirectoryReader: the exporter reads only its conn and settings
    exporter = LdapExporter(SimpleNamespace(conn=conn, settings=settings))  # type: ignore[arg-type]
    delete = ExportChange(cs_id=1, kind=ExportKind.DELETE, dn="cn=x", object_type="user")
    transient = {3, 11, 51, 52}  # time limit, admin limit, busy, unavailable
    for number in range(0, 200):
        entry = lookup(f"ldap-{number}")
        assert entry is not None
        assert entry.retryable is (number in transient), number
        conn.result = number
        result = exporter.apply(delete)
        assert (result.ok, result.error_code) == (False, f"ldap-{number}")
        assert result.retryable is (number in transient), number
    conn.result = None
    result = exporter.apply(delete)
    assert (result.error_code, result.retryable) == ("ldap-error", False)
    assert lookup("ldap-error") is ErrorCode.LDAP_ERROR
    assert lookup("ldap-99") is ErrorCode.LDAP_RESULT and lookup("ldap-") is None


def _clouddir_codes() -> set[str]:
    """The codes clouddir's sync API answers with per change (clouddir.errors' names and the
    quota's) and for a whole request (what the cloud connector records for every change of a
    refused request: every 4xx but the ones it turns into run errors or retries)."""
    codes = {value for name, value in vars(clouddir.errors).items()
             if name.isupper() and isinstance(value, str)}
    for module in ("quota.py", "storage/quotas.py"):
        codes |= set(_module_constants(ast.parse((CLOUDDIR / module).read_text("utf-8")))
                     .values()) & {"Directory_QuotaExceeded"}
    not_recorded = {"InvalidAuthenticationToken", "TooManyRequests", "NotFound"}
    for module in ("sync_api.py", "service.py", "request_limits.py"):
        text = (CLOUDDIR / module).read_text("utf-8")
        codes |= set(re.findall(r'4\d\d,\s*(?:graph_error_body\(\s*)?"([A-Z]\w+)"', text))
        codes |= set(re.findall(r'code = "([A-Z]\w+)"', text))
        codes |= set(re.findall(r'else "([A-Z]\w+)"', text))
    codes |= set(clouddir.errors_http._CODES.values())
    codes.add("Error")  # the connector's name for an answer without a code
    return codes - not_recorded


def test_every_code_the_cloud_directory_answers_is_in_the_registry() -> None:
    codes = _clouddir_codes()
    assert {"InvalidSoftMatch", "Directory_QuotaExceeded", "BatchTooLarge",
            "BadRequest"} <= codes
    unknown = sorted(c for c in codes if lookup(c) is None)
    assert not unknown, unknown
    for code in codes:  # retryable as the service says (clouddir.errors.RETRYABLE)
        assert is_retryable(code) is (code in clouddir.errors.RETRYABLE), code
        entry = lookup(code)
        assert entry is not None and (entry.source == CLOUD or code == "dn-attributes-failure")


def test_the_registry_entries() -> None:
    assert {"dn-attributes-failure"} == INFORMATIONAL_CODES  # what the store counts apart
    assert is_informational("dn-attributes-failure") and not is_informational("no-result")
    assert not is_informational("someone-elses-code") and not is_retryable("someone-elses-code")
    assert is_retryable("no-result") and not is_retryable("export-failed")
    assert ErrorCode.SYNC_RULE_ERROR == "sync-rule-error-function-triggered"
    assert f"{ErrorCode.MEMBER_REMOVAL_LIMIT}" == "member-removal-limit-exceeded"
    assert ErrorCode.SYNC_RULE_ERROR.stages == (Stage.SYNC, Stage.EXPORT)
    for entry in ErrorCode:
        assert entry.message.endswith(".") and len(entry.message) > 40, entry
        assert entry.stages and all(isinstance(s, Stage) for s in entry.stages), entry


def test_the_committed_page_is_the_registrys() -> None:
    from idsync.error_codes import reference_page

    page = reference_page()
    assert (ROOT / "docs" / "error-codes.md").read_text("utf-8") == page, (
        "docs/error-codes.md is stale: run `python -m idsync.error_codes > docs/error-codes.md`")
    assert all(f"### `{entry.value}`" in page for entry in ErrorCode)
