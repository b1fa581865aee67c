"""Structured logs: one JSON object per line, with the request id, and nothing secret.

Secrets and the labs' private fields are never passed to a logger in the
first place; the formatter is the second line of defence and masks what looks
like an API key, a webhook secret, an encrypted value, a bearer token, the
password of a URL, a private field of a detection, or the bound parameters
that SQLAlchemy appends to its error messages (they carry row values).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("ews_request_id", default=None)

PRIVATE_FIELDS = ("case_ref", "notes", "external_ref", "password", "token", "secret", "api_key")
_MASKS = (
    (re.compile(r"ews_[A-Za-z0-9_\-]{16,}"), "ews_***"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), "whsec_***"),
    (re.compile(r"enc:v1:[A-Za-z0-9_\-=]+"), "enc:v1:***"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1***"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), r"\1***@"),
    (
        re.compile(
            r"""(?i)(["']?(?:""" + "|".join(PRIVATE_FIELDS) + r""")["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,}&]+)"""
        ),
        r"\1***",
    ),
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\(Background|$))", re.S), "[parameters: ***]"),
)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        current = request_id.get()
        if current:
            entry["request_id"] = current
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = "***" if key in PRIVATE_FIELDS else value
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        current = request_id.get()
        return f"{line} request_id={current}" if current else line


_configured = False


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Send every log record (ews, uvicorn, APScheduler, SQLAlchemy) to stderr in one format. Idempotent."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # ews logs each request itself, with its id
    # "skipped: maximum number of running instances reached" is how a busy dispatcher coalesces, not a fault
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry full URLs
    _configured = True
