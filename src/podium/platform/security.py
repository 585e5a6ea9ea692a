"""Secrets: API tokens (only their sha256 is kept), Hugging Face tokens (Fernet-encrypted
at rest with a key derived from ``PODIUM_SECRET_KEY``), and the log redaction filter
that masks any ``hf_...`` token-like string and every registered secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading

TOKEN_PREFIX = "pdm_"
PREFIX_LEN = 12  # "pdm_" + 8 characters: what the database indexes
MASK = "[REDACTED]"
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")
_API_TOKEN = re.compile(r"\bpdm_[A-Za-z0-9_\-]{16,}")


# -- API tokens ---------------------------------------------------------------------


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_prefix(token: str) -> str:
    return token[:PREFIX_LEN]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# -- Hugging Face tokens at rest ----------------------------------------------------


class TokenBox:
    """Encrypts and decrypts Hugging Face tokens with Fernet (AES-128-CBC + HMAC)."""

    def __init__(self, secret_key: str) -> None:
        from cryptography.fernet import Fernet

        digest = hashlib.sha256(b"podium-hf-token:" + secret_key.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, token: str) -> bytes:
        register_secret(token)
        return self._fernet.encrypt(token.encode("utf-8"))

    def open(self, ciphertext: bytes) -> str:
        token = self._fernet.decrypt(ciphertext).decode("utf-8")
        register_secret(token)
        return token


# -- redaction ----------------------------------------------------------------------

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log record from now on."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    text = _HF_TOKEN.sub(MASK, text)
    return _API_TOKEN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and any traceback text) with :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def _redact_record(record: logging.LogRecord) -> None:
    """Redact the message and each argument in place, keeping the record's shape:
    formatters that read ``record.args`` themselves (uvicorn's access log) still work."""
    if getattr(record, "_podium_redacted", False):
        return
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_value(v) for k, v in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    record.exc_info = None if record.exc_text else record.exc_info
    record._podium_redacted = True


_installed = False


def install_redaction() -> None:
    """Redact every log record created from now on, whatever logger or handler writes it:
    a record factory (covers records of every logger, propagated or not) plus a filter
    on the root logger and its handlers."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    flt = RedactingFilter()
    root.addFilter(flt)
    for handler in root.handlers:
        handler.addFilter(flt)
