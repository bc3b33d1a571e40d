"""Fixtures for the expression tests."""

from __future__ import annotations

import datetime as dt

import pytest
from expr_helpers import make_certificate


@pytest.fixture(scope="session")
def certificates() -> dict[str, bytes]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "expired": make_certificate("old", now - dt.timedelta(days=10)),
        "valid": make_certificate(
            "Joe Doe",
            now + dt.timedelta(days=300),
            upn="joe@contoso.com",
            dns="joe.contoso.com",
            email="joe@mail.contoso.com",
        ),
        "valid2": make_certificate("Ann", now + dt.timedelta(days=30)),
    }
