"""Per-object export error codes (the reference's names) and the exception carrying one."""

from __future__ import annotations

DN_ATTRIBUTES_FAILURE = "dn-attributes-failure"
ATTRIBUTE_VALUE_MUST_BE_UNIQUE = "AttributeValueMustBeUnique"
INVALID_SOFT_MATCH = "InvalidSoftMatch"
INVALID_HARD_MATCH = "InvalidHardMatch"
OBJECT_TYPE_MISMATCH = "ObjectTypeMismatch"
LARGE_OBJECT = "LargeObject"
IDENTITY_DATA_VALIDATION_FAILED = "IdentityDataValidationFailed"
CLOUD_OBJECT_NOT_SYNC_MANAGED = "CloudObjectNotSyncManaged"
OBJECT_NOT_FOUND = "ObjectNotFound"
#: The object's source of authority is the cloud (onPremisesSyncBehavior.isCloudManaged): sync
#: writes are refused until it is false again. Not retryable by the batch: the client holds the
#: change until an import shows the authority back on premises.
OBJECT_CLOUD_MANAGED = "ObjectCloudManaged"

#: Codes a client should retry in a later export run (the cause may go away by itself).
RETRYABLE = frozenset({DN_ATTRIBUTES_FAILURE})


class ChangeRefused(Exception):
    """One change of a batch is refused; nothing of it is applied."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "detail": self.detail, "retryable": self.code in RETRYABLE}
