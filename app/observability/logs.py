"""Structured logs: one JSON object per line, with the id of the request it belongs to.

Why the standard logging module with a small formatter: uvicorn, SQLAlchemy and the
service already log through it, so one formatter makes all of it JSON, and uvicorn
applies the configuration (`log_config`) in every worker process it starts.

A line: ``{"time", "level", "logger", "message", "request_id", "pid"}``, plus
``method, route, status, duration_ms`` on access lines and ``exception`` with a
traceback. API keys never appear: requests are logged by route template, never with
their headers, and anything shaped like a key in a message is redacted.
"""

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

# The id of the request being answered; None outside a request (startup, refresh).
REQUEST_ID: ContextVar[str | None] = ContextVar("nextbest_request_id", default=None)
ACCESS = "nextbest.access"
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
# A key reads nb_<key id>_<secret> (app.auth.keys); the key id may stay, the secret not.
_KEY = re.compile(r"(nb_[0-9A-Za-z]{1,32}_)[0-9A-Za-z_\-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def redact(text: str) -> str:
    """`text` with the secret part of API keys and bearer tokens replaced."""
    if "nb_" in text:
        text = _KEY.sub(r"\1[redacted]", text)
    if "earer" in text:
        text = _BEARER.sub(r"\1[redacted]", text)
    return text


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (in the thread that logs it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "pid": record.process,
        }
        for field in ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        return orjson.dumps(line, default=str).decode()


def log_config(access_log: bool = False, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (uvicorn's `log_config`): everything as
    JSON lines on stderr; access lines (`nextbest.access`) only when asked for.

    uvicorn's own access logger stays off: it logs the raw path, which holds customer
    ids; the service's access lines name the route template instead.
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "nextbest": {"handlers": ["json"], "level": level, "propagate": False},
            ACCESS: {"level": "INFO" if access_log else "WARNING"},
        },
    }
