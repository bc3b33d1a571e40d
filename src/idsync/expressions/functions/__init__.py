"""Expression functions, one module per family; importing this package fills the registry."""

from __future__ import annotations

from idsync.expressions.functions import (  # noqa: F401 - imported to register
    cert,
    conversion,
    dates,
    directory,
    evaluation,
    flow,
    multivalued,
    numeric,
    text,
)
from idsync.expressions.functions.registry import REGISTRY, FunctionSpec

__all__ = ["REGISTRY", "FunctionSpec"]
