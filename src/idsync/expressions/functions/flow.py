"""Flow functions. IIF, Switch, Select, Where and With decide which arguments to evaluate, so
the compiler builds them (see ``compile.py``); they are registered here for their arity."""

from __future__ import annotations

from typing import Any, NoReturn

from idsync.expressions.errors import ErrorFunctionTriggered
from idsync.expressions.functions.registry import function, want_str


@function("Error", 1, per_value=(), pure=False)
def error(message: Any) -> NoReturn:
    raise ErrorFunctionTriggered("" if message is None else want_str("Error", message, "message"))


def _special(name: str) -> None:  # pragma: no cover - never called, registered for arity only
    raise AssertionError(name)


SPECIAL_FORMS = {
    "IIF": (3, 3),
    "Switch": (2, 1_000),
    "Select": (3, 3),
    "Where": (3, 3),
    "With": (3, 3),
}
for _name, (_low, _high) in SPECIAL_FORMS.items():
    function(_name, _low, _high, per_value=(), special=True)(_special)
