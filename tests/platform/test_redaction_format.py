"""Redaction keeps a log record's shape: formatters that read ``record.args`` themselves
(uvicorn's access log) still format, and no token survives."""

from __future__ import annotations

import logging

from podium.platform.security import RedactingFilter

TOKEN = "hf_abcdefghijklmnopqrstuvwxyz0123"


def test_args_are_redacted_in_place() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/x?t={TOKEN}", "1.1", 200), None,
    )
    assert RedactingFilter().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    client, method, path, version, status = record.args  # what uvicorn's formatter unpacks
    assert status == 200 and method == "GET"
    text = record.getMessage()
    assert TOKEN not in text and "/api/x?t=" in text


def test_dict_args_and_message() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"token {TOKEN} %(who)s", ({"who": TOKEN},), None)
    RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()
