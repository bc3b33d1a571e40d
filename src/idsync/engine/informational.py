"""Informational per-object errors: kept on the object and in the run history like any error,
but they do not make a run or a cycle "with errors", and they are counted apart (run counter
``<stage>-informational``, metric ``idsync_object_informational_errors``) so alerts on real
errors do not fire on them.

The reference calls ``dn-attributes-failure`` (event 6949: a reference names an object the
target connector space does not hold; the reference is left out of that export and sent once
the object is there) informational.
"""

from __future__ import annotations

#: ``engine.outbound.DN_ATTRIBUTES_FAILURE`` (not imported: the store and the service read
#: this without loading the engine).
INFORMATIONAL_CODES: frozenset[str] = frozenset({"dn-attributes-failure"})

#: The cycle status of a cycle whose runs all succeeded, some with informational errors only.
CYCLE_COMPLETED_WITH_WARNINGS = "completed-with-warnings"


def is_informational(code: str) -> bool:
    return code in INFORMATIONAL_CODES
