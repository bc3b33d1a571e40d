"""Codes of the per-object errors synchronization records (the inbound and outbound flows and
export staging share them; the export stage reads ``DN_ATTRIBUTES_FAILURE``)."""

from __future__ import annotations

#: a rule's Error() function fired
SYNC_RULE_ERROR = "sync-rule-error-function-triggered"
#: a rule's expression failed to evaluate
EXPRESSION_ERROR = "sync-rule-expression-failed"
#: references name objects the target connector space does not hold (informational)
DN_ATTRIBUTES_FAILURE = "dn-attributes-failure"
