"""Every per-object error code idsync records, in one registry: the code (stored on the object
and in the run history, and shown, exactly as written here), the stages that record it, whether
it is informational, whether it is retryable, and what an administrator reads about it.

*Informational*: kept on the object and in the run history like any error, but it does not make
a run or a cycle "with errors" and it is counted apart (run counter ``<stage>-informational``,
metric ``idsync_object_informational_errors``), so alerts on real errors do not fire on it. The
reference calls ``dn-attributes-failure`` (event 6949) informational.

*Retryable*: the cause may go away by itself, so the same change may succeed when it is sent
again (a busy server, a reference to an object that is not there yet). Every failed export stays
pending and is sent again by the next export run either way; a retryable one says so in its
detail ("transient"), the others wait for someone to fix the cause. A connector that knows
better for one result (the cloud's results carry the service's own verdict) says so on the
result (``ExportResult.retryable``); otherwise the registry decides by the code.

Codes come from idsync itself (the engine and its connectors) and from the directories it
writes to: an LDAP server's result code (``ldap-<code>``) and the cloud directory's sync API
codes (clouddir's names, passed through unchanged). This module imports nothing of idsync's, so
the store, the scheduler and the CLI read it without loading the engine.

``docs/error-codes.md`` is this registry's page (``python -m idsync.error_codes``).
"""

from __future__ import annotations

import re
import textwrap
from enum import StrEnum


class Stage(StrEnum):
    """The stage a per-object error is recorded in (the ``stage`` of its row)."""

    IMPORT = "import"
    SYNC = "sync"
    EXPORT = "export"


#: Who records a code.
ENGINE = "engine"
FILE = "file connector"
LDAP = "LDAP connector (the server's result code)"
CLOUD = "cloud connector (the cloud directory's sync API)"
GRAPH = "graph connector (Microsoft Graph's codes, passed through, and its own)"

_Entry = tuple[str, tuple[Stage, ...], str, bool, bool, str]


def _entry(code: str, stages: Stage | tuple[Stage, ...], source: str, message: str, *,
           informational: bool = False, retryable: bool = False) -> _Entry:
    return (code, stages if isinstance(stages, tuple) else (stages,), source, informational,
            retryable, message)


_IMPORT, _SYNC, _EXPORT = Stage.IMPORT, Stage.SYNC, Stage.EXPORT
_RULE_STAGES = (Stage.SYNC, Stage.EXPORT)  # inbound rules record in sync, outbound in export


class ErrorCode(StrEnum):
    """One per-object error code. A member is its code string (``ErrorCode.X == "x-y"``), so
    it is stored, compared and shown as the code itself."""

    stages: tuple[Stage, ...]
    source: str
    informational: bool
    retryable: bool
    message: str

    def __new__(cls, code: str, stages: tuple[Stage, ...], source: str, informational: bool,
                retryable: bool, message: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.stages = stages
        member.source = source
        member.informational = informational
        member.retryable = retryable
        member.message = message
        return member

    # --- the engine --------------------------------------------------------------------------
    MISSING_OBJECT = _entry(
        "missing-object", _IMPORT, ENGINE,
        "A delta import received a change for an object the connector space does not hold (the "
        "change came before the object was ever imported). The change is not applied. Run a "
        "full import on the connector: it reads the object as it is now.")
    AMBIGUOUS_JOIN_RULES = _entry(
        "ambiguous-join-rules", _SYNC, ENGINE,
        "More than one in-scope inbound sync rule has join conditions for this object, so "
        "idsync cannot tell which one joins it; the object is neither joined nor projected. "
        "Narrow the rules' scoping filters so that one rule with join conditions applies.")
    PROVISIONING_NO_DN = _entry(
        "provisioning-no-dn", _SYNC, ENGINE,
        "An outbound sync rule provisions the metaverse object to a connector, but no in-scope "
        "outbound rule flows a 'dn' for it, so the object cannot be created there. Add a "
        "transformation to the 'dn' target in a rule that applies to the object.")
    SYNC_RULE_ERROR = _entry(
        "sync-rule-error-function-triggered", _RULE_STAGES, ENGINE,
        "A sync rule's expression called Error(\"...\") for this object; the detail is the rule "
        "author's message. The object's attribute flow is held (nothing of it is written to "
        "the metaverse, or exported) until its rules succeed. Fix the object's data or the "
        "rule; the next synchronization of the object evaluates it again.")
    EXPRESSION_ERROR = _entry(
        "sync-rule-expression-failed", _RULE_STAGES, ENGINE,
        "A sync rule's transformation failed for this object (a type mismatch, an index out of "
        "range, ...); the detail says which expression and why. The object's attribute flow is "
        "held until its rules succeed. Fix the expression or the object's data.")
    DN_ATTRIBUTES_FAILURE = _entry(
        "dn-attributes-failure", _EXPORT, ENGINE,
        "A reference (member, manager) names an object the target does not hold yet (not "
        "provisioned, or out of scope). That reference is left out of this export and sent "
        "once the object is there; nothing to do unless it persists, in which case check why "
        "the named object is not in the target connector space. Also returned by the cloud "
        "directory for members it does not have.",
        informational=True, retryable=True)
    MEMBER_REMOVAL_LIMIT = _entry(
        "member-removal-limit-exceeded", _EXPORT, ENGINE,
        "The export would remove more than the member removal limit allows from this group "
        "(by default over 50% of a group of at least 20), which usually means a scoping or "
        "filter mistake; the group's export is held. Fix the cause, or if the removals are "
        "intended allow them once with `idsync exports allow-member-removals`.")
    NO_RESULT = _entry(
        "no-result", _EXPORT, ENGINE,
        "The connector returned no result for this change, so idsync cannot tell whether it "
        "was applied. It is sent again by the next export; if it persists, the connector has "
        "a bug worth reporting.",
        retryable=True)
    EXPORT_FAILED = _entry(
        "export-failed", _EXPORT, ENGINE,
        "The connector reported a failure without a code; the detail holds what it said. "
        "The change is sent again by the next export.")

    # --- the file connector ------------------------------------------------------------------
    LDIF_RECORD_UNREADABLE = _entry(
        "ldif-record-unreadable", (Stage.IMPORT, Stage.EXPORT), FILE,
        "A record of the connector's LDIF files cannot be read (bad syntax, a DN that is not a "
        "DN, a DN the file repeats, a record of the wrong kind); the detail names the file, "
        "the line and the reason. The object it names keeps its state, and no delete is "
        "inferred from it. Fix the file; the next full import reads the record again.")
    LDIF_URL_REFUSED = _entry(
        "ldif-url-refused", _IMPORT, FILE,
        "A record holds a URL value (attr:< URL), which the file connector does not read "
        "unless the setting allow_file_urls_under names the directory the file: URL is in. "
        "Put the value in the file, or set allow_file_urls_under.")
    NO_SUCH_OBJECT = _entry(
        "no-such-object", _EXPORT, FILE,
        "The change names an entry the file does not hold (changed or removed outside "
        "idsync). Run an import: it shows the file's state, and the next synchronization "
        "stages what is still needed.")
    ENTRY_ALREADY_EXISTS = _entry(
        "entry-already-exists", _EXPORT, FILE,
        "An add or a rename targets a DN the file already holds. Remove or rename the entry "
        "in the way, or fix the rule that builds the DN.")
    CONSTRAINT_VIOLATION = _entry(
        "constraint-violation", _EXPORT, FILE,
        "The change would modify the entry's anchor attribute, which never changes. Stop the "
        "outbound rule from flowing to the anchor attribute.")
    INVALID_DN_SYNTAX = _entry(
        "invalid-dn-syntax", _EXPORT, FILE,
        "The change's DN (or a rename's new DN) is not a valid DN (RFC 4514), or a rename has "
        "no new DN. Fix the rule that builds the DN.")
    UNDEFINED_ATTRIBUTE_TYPE = _entry(
        "undefined-attribute-type", _EXPORT, FILE,
        "The change names an attribute whose name is not a valid LDIF attribute name. Fix the "
        "outbound rule's target attribute.")

    # --- LDAP servers: ldap-<result code> ----------------------------------------------------
    LDAP_RESULT = _entry(
        "ldap-<code>", _EXPORT, LDAP,
        "The LDAP server refused the change with this result code (RFC 4511); the detail holds "
        "the server's message. The codes listed here are the usual ones.")
    LDAP_ERROR = _entry(
        "ldap-error", _EXPORT, LDAP,
        "The LDAP server refused the change without a result code; the detail holds what "
        "python-ldap reported.")
    LDAP_TIME_LIMIT = _entry(
        "ldap-3", _EXPORT, LDAP,
        "timeLimitExceeded: the server ran out of time for the operation. Transient: sent "
        "again by the next export.", retryable=True)
    LDAP_ADMIN_LIMIT = _entry(
        "ldap-11", _EXPORT, LDAP,
        "adminLimitExceeded: a server limit stopped the operation. Transient: sent again by "
        "the next export; if it persists, raise the server's limit.", retryable=True)
    LDAP_NO_SUCH_ATTRIBUTE = _entry(
        "ldap-16", _EXPORT, LDAP,
        "noSuchAttribute: a value to remove is not on the entry (changed outside idsync). "
        "Run an import, then a synchronization.")
    LDAP_UNDEFINED_TYPE = _entry(
        "ldap-17", _EXPORT, LDAP,
        "undefinedAttributeType: the server's schema has no such attribute. Fix the outbound "
        "rule's target attribute or extend the schema.")
    LDAP_CONSTRAINT_VIOLATION = _entry(
        "ldap-19", _EXPORT, LDAP,
        "constraintViolation: a value breaks a server constraint (size, uniqueness, a "
        "single-valued attribute given several values). See the detail; fix the rule or the "
        "data.")
    LDAP_TYPE_OR_VALUE_EXISTS = _entry(
        "ldap-20", _EXPORT, LDAP,
        "attributeOrValueExists: a value to add is already on the entry (changed outside "
        "idsync). Run an import, then a synchronization.")
    LDAP_INVALID_SYNTAX = _entry(
        "ldap-21", _EXPORT, LDAP,
        "invalidAttributeSyntax: a value does not have the attribute's syntax. Fix the rule's "
        "transformation or the source data.")
    LDAP_NO_SUCH_OBJECT = _entry(
        "ldap-32", _EXPORT, LDAP,
        "noSuchObject: the entry (or the parent container of a new one) does not exist. Run "
        "an import; for an add, create the container or fix the rule that builds the DN.")
    LDAP_INVALID_DN_SYNTAX = _entry(
        "ldap-34", _EXPORT, LDAP,
        "invalidDNSyntax: the DN is not valid. Fix the rule that builds the DN.")
    LDAP_INSUFFICIENT_ACCESS = _entry(
        "ldap-50", _EXPORT, LDAP,
        "insufficientAccessRights: the connector's account may not make this change. Grant "
        "the account the rights on that part of the directory.")
    LDAP_BUSY = _entry(
        "ldap-51", _EXPORT, LDAP,
        "busy: the server is too busy. Transient: sent again by the next export.",
        retryable=True)
    LDAP_UNAVAILABLE = _entry(
        "ldap-52", _EXPORT, LDAP,
        "unavailable: the server cannot serve the request now. Transient: sent again by the "
        "next export.", retryable=True)
    LDAP_UNWILLING_TO_PERFORM = _entry(
        "ldap-53", _EXPORT, LDAP,
        "unwillingToPerform: the server refuses this kind of change (a policy, a read-only "
        "attribute or replica). See the detail.")
    LDAP_NAMING_VIOLATION = _entry(
        "ldap-64", _EXPORT, LDAP,
        "namingViolation: the DN's RDN is not allowed where the entry would be. Fix the rule "
        "that builds the DN.")
    LDAP_OBJECT_CLASS_VIOLATION = _entry(
        "ldap-65", _EXPORT, LDAP,
        "objectClassViolation: the entry would miss a required attribute or hold one its "
        "object classes do not allow. Flow the missing attribute, or fix the object type's "
        "classes in the connector's settings.")
    LDAP_NOT_ALLOWED_ON_NONLEAF = _entry(
        "ldap-66", _EXPORT, LDAP,
        "notAllowedOnNonLeaf: the entry has children, so it cannot be deleted or moved. "
        "Remove or move its children first.")
    LDAP_ALREADY_EXISTS = _entry(
        "ldap-68", _EXPORT, LDAP,
        "entryAlreadyExists: an add or a rename targets a DN the directory already holds. "
        "Remove or rename the entry in the way, or fix the rule that builds the DN.")

    # --- the cloud directory (its sync API's codes, passed through) ---------------------------
    ATTRIBUTE_VALUE_MUST_BE_UNIQUE = _entry(
        "AttributeValueMustBeUnique", _EXPORT, CLOUD,
        "Another cloud object holds a value that must be unique (userPrincipalName, "
        "proxyAddresses). The change is applied and the duplicate value quarantined (a "
        "warning on a successful export). Remove the duplicate on-premises. Through Graph "
        "(graph connector) the change is refused instead, and sent again by each export "
        "until the duplicate is gone.")
    INVALID_SOFT_MATCH = _entry(
        "InvalidSoftMatch", _EXPORT, CLOUD,
        "The new object matches a cloud object by userPrincipalName or primary SMTP address, "
        "and that object is already synchronized with another source anchor. Fix the "
        "duplicate value, or remove the stale cloud object.")
    INVALID_HARD_MATCH = _entry(
        "InvalidHardMatch", _EXPORT, CLOUD,
        "The object's source anchor matches a cloud-managed object, which sync may not take "
        "over. Enable the cloud object for sync, or remove it.")
    OBJECT_TYPE_MISMATCH = _entry(
        "ObjectTypeMismatch", _EXPORT, CLOUD,
        "The object's source anchor or id names a cloud object of another type (a user for a "
        "group). Check the outbound rules' object types.")
    LARGE_OBJECT = _entry(
        "LargeObject", _EXPORT, CLOUD,
        "The object is larger than the cloud directory accepts: too many members for the sync "
        "API version (v1 allows 50,000), too many certificates, or too many bytes. Use sync "
        "API v2 for large groups, or reduce the values.")
    IDENTITY_DATA_VALIDATION_FAILED = _entry(
        "IdentityDataValidationFailed", _EXPORT, CLOUD,
        "The cloud directory found the object's data invalid (a userPrincipalName that is not "
        "a UPN, a missing required value, a changed source anchor, ...); the detail says "
        "which. Fix the data or the rule that flows it.")
    CLOUD_OBJECT_NOT_SYNC_MANAGED = _entry(
        "CloudObjectNotSyncManaged", _EXPORT, CLOUD,
        "The change targets a cloud-born object that sync does not manage. Leave it to the "
        "cloud's administrators, or scope the on-premises object out.")
    OBJECT_NOT_FOUND = _entry(
        "ObjectNotFound", _EXPORT, CLOUD,
        "The object to update is not in the cloud directory (deleted there). Run an import "
        "of the cloud connector; the next synchronization provisions it again if it is "
        "still in scope.")
    OBJECT_CLOUD_MANAGED = _entry(
        "ObjectCloudManaged", _EXPORT, CLOUD,
        "The object's source of authority is the cloud (onPremisesSyncBehavior). An update or "
        "delete is held, not recorded (event 6956); recorded only for an add the cloud would "
        "match onto such an object. Move the authority back, or leave the object to the cloud.")
    QUOTA_EXCEEDED = _entry(
        "Directory_QuotaExceeded", _EXPORT, CLOUD,
        "The tenant's object or storage quota is full, so the object cannot be added or grow. "
        "Raise the tenant's quota or remove objects.")
    BAD_REQUEST = _entry(
        "BadRequest", _EXPORT, CLOUD,
        "The cloud directory refused the whole request as malformed; every change of the "
        "request gets this code. A bug worth reporting, with the detail.")
    BATCH_TOO_LARGE = _entry(
        "BatchTooLarge", _EXPORT, CLOUD,
        "The request was larger than the cloud directory accepts. Lower the connector's "
        "export batch size.")
    REQUEST_ENTITY_TOO_LARGE = _entry(
        "RequestEntityTooLarge", _EXPORT, CLOUD,
        "The request was larger than the service accepts. Lower the connector's export batch "
        "size.")
    UNSUPPORTED_MEDIA_TYPE = _entry(
        "UnsupportedMediaType", _EXPORT, CLOUD,
        "The service refused the request's content type; the connector and the service do not "
        "agree on the API. Check the connector's URL.")
    METHOD_NOT_ALLOWED = _entry(
        "MethodNotAllowed", _EXPORT, CLOUD,
        "The service does not take the request's method at that path; the connector and the "
        "service do not agree on the API. Check the connector's URL.")
    REQUEST_REFUSED = _entry(
        "Error", _EXPORT, CLOUD,
        "The service refused the request without a code of its own; the detail holds its "
        "answer. Check the connector's URL and the service's log.")

    # --- Microsoft Graph (the graph connector) -------------------------------------------------
    GRAPH_REFERENCE_PENDING = _entry(
        "graph-reference-pending", _EXPORT, GRAPH,
        "A reference (a member, a manager) names an object that has no Graph id yet (not "
        "created in Graph yet, or its creation failed). The rest of the change is sent; the "
        "reference is sent by the next export, once the object exists. If it persists, look "
        "at the named object's own export error.", retryable=True)
    GRAPH_OBJECT_TYPE_UNSUPPORTED = _entry(
        "graph-object-type-unsupported", _EXPORT, GRAPH,
        "The graph connector exports users and groups only; the change is for another object "
        "type. Fix the outbound sync rule's object type.")
    GRAPH_NO_ANCHOR = _entry(
        "graph-no-anchor", _EXPORT, GRAPH,
        "An update names an object idsync has no Graph id for, so Graph cannot be told which "
        "object to change. Run an import of the graph connector; it finds the object.")
    GRAPH_BAD_REQUEST = _entry(
        "Request_BadRequest", _EXPORT, GRAPH,
        "Graph refused the request as invalid (a value of the wrong type or too long, a "
        "read-only property, an object mastered elsewhere); the detail holds Graph's message "
        "and which request of the change it was. Fix the data or the outbound rule.")
    GRAPH_NOT_FOUND = _entry(
        "Request_ResourceNotFound", _EXPORT, GRAPH,
        "The object, or an object a reference names, is not in the directory (deleted in the "
        "cloud). Run an import of the graph connector; the next synchronization provisions it "
        "again if it is still in scope.")
    GRAPH_ACCESS_DENIED = _entry(
        "Authorization_RequestDenied", _EXPORT, GRAPH,
        "The app registration lacks the Graph permission for this change (User.ReadWrite.All, "
        "Group.ReadWrite.All, GroupMember.ReadWrite.All). Grant it with admin consent.")
    GRAPH_TOO_MANY_REQUESTS = _entry(
        "TooManyRequests", _EXPORT, GRAPH,
        "Graph throttled the request and it was still throttled after the connector's "
        "retries. Transient: sent again by the next export; if it persists, lower the "
        "connector's write budget or concurrency.", retryable=True)
    GRAPH_UNAVAILABLE = _entry(
        "ServiceUnavailable", _EXPORT, GRAPH,
        "Graph could not serve the request (503) even after the connector's retries. "
        "Transient: sent again by the next export.", retryable=True)
    GRAPH_GATEWAY_TIMEOUT = _entry(
        "GatewayTimeout", _EXPORT, GRAPH,
        "Graph timed out on the request (504) even after the connector's retries. Transient: "
        "sent again by the next export.", retryable=True)


#: A code of the ``ldap-<result code>`` family that the registry does not list.
_LDAP_RESULT = re.compile(r"ldap-[0-9]+")

#: The informational codes: the store and the metrics count them apart.
INFORMATIONAL_CODES: frozenset[str] = frozenset(
    c.value for c in ErrorCode if c.informational)


def lookup(code: str) -> ErrorCode | None:
    """The registry's entry for a recorded code; None for a code the registry does not know
    (a connector of someone else's)."""
    found = ErrorCode._value2member_map_.get(code)
    if isinstance(found, ErrorCode):
        return found
    if _LDAP_RESULT.fullmatch(code):
        return ErrorCode.LDAP_RESULT
    return None


def is_informational(code: str) -> bool:
    entry = lookup(code)
    return entry is not None and entry.informational


def is_retryable(code: str) -> bool:
    entry = lookup(code)
    return entry is not None and entry.retryable


_PAGE_HEAD = """\
# Error codes

<!-- Generated from src/idsync/error_codes.py: `python -m idsync.error_codes >
docs/error-codes.md`. tests/error_codes keeps this page equal to the registry. -->

Every code idsync records on an object (`idsync errors list`) and in a run's history
(`idsync runs show`), by who records it. The code is stored and shown exactly as written here.

- **stage**: the stage of the error's row (`import`, `sync`, `export`).
- **informational**: kept on the object like any error, but it does not make a run or a cycle
  "with errors" and is counted apart (run counter `<stage>-informational`, metric
  `idsync_object_informational_errors`): nothing to alert on.
- **retryable**: the cause may go away by itself. Every failed export stays pending and is sent
  again by the next export; a retryable one says "transient" in its detail, the others wait
  for the cause to be fixed.
"""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def reference_page() -> str:
    """The registry as the Markdown page ``docs/error-codes.md``."""
    parts = [_PAGE_HEAD]
    for source in (ENGINE, FILE, LDAP, CLOUD, GRAPH):
        parts.append(f"\n## {source[0].upper()}{source[1:]}\n")
        for entry in ErrorCode:
            if entry.source != source:
                continue
            stages = ", ".join(s.value for s in entry.stages)
            parts.append(f"\n### `{entry.value}`\n\nstage: {stages} · informational: "
                         f"{_yes(entry.informational)} · retryable: {_yes(entry.retryable)}\n\n"
                         f"{textwrap.fill(entry.message, 100)}\n")
    return "".join(parts)


if __name__ == "__main__":
    print(reference_page(), end="")
