"""Log redaction for every log line: the loggers that print URLs (uvicorn, httpx) and our own.

Query strings carry personal data and secrets (`/api/lookup?account_number=...`, `?q=0905123456`,
signed partner callbacks), so they never reach a log line. Phone numbers, long digit runs
(account and ID numbers), bearer tokens, API keys and `secret=`/`password=` values are masked too.
Our own code does not log such values on purpose (tests/zz_last/test_logs_clean.py proves it), but an
error it logs may quote one (a database error naming a key's value), so our loggers' handlers
redact too: the filter sits on the handlers, which every record reaches, whichever logger made it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Loggers that print request URLs: uvicorn's access log and error log, httpx's request log.
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx")

_QUERY = re.compile(r"(?<=[\w/.~%-])\?[^\s\"'#]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+")
_API_KEY = re.compile(r"\bcs_[A-Za-z0-9_-]+")
_ASSIGNED_SECRET = re.compile(
    r"(?i)\b(secret|password|passwd|api[_-]?key|access_token|token|signature)"
    r"(\"?\s*[:=]\s*\"?)[^\s\"'&,;}]+"
)
_PHONE = re.compile(r"(?<![\w+])(?:\+84|84|0)(?:[ .-]?\d){8,10}(?![\w])")
_LONG_NUMBER = re.compile(r"(?<![\w.])\d{8,19}(?![\w.])")


def redact(text: str) -> str:
    """The text with query strings, phone numbers, long numbers, tokens and secrets masked."""
    text = _QUERY.sub("?[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _API_KEY.sub("cs_[redacted]", text)
    text = _ASSIGNED_SECRET.sub(r"\1\2[redacted]", text)
    text = _PHONE.sub("[phone]", text)
    return _LONG_NUMBER.sub("[number]", text)


def _redact_arg(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value  # keeps %d and friends working
    text = str(value)
    clean = redact(text)
    if isinstance(value, str) or clean != text:
        return clean
    return value


class RedactFilter(logging.Filter):
    """Redacts a record's message and arguments in place, keeping the argument structure
    (uvicorn's access formatter unpacks its five arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install(logger_names: tuple[str, ...] = URL_LOGGERS) -> None:
    """Attach the filter to the URL-printing loggers of this process and to the root logger's
    handlers, through which our own loggers (choso.*) write (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in logger.filters):
            logger.addFilter(RedactFilter())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config with the filter on its loggers and on httpx's; uvicorn applies it in
    every worker process, so multi-worker servers are covered too."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"redact": {"()": "core.logging.RedactFilter"}},
        "handlers": {
            name: {**handler, "filters": ["redact"]}
            for name, handler in LOGGING_CONFIG["handlers"].items()
        },
        "loggers": {
            **{name: {**logger} for name, logger in LOGGING_CONFIG["loggers"].items()},
            "httpx": {"level": level.upper(), "filters": ["redact"]},
        },
    }
    for name in ("uvicorn.access", "uvicorn.error"):
        config["loggers"].setdefault(name, {})["filters"] = ["redact"]
    # Our own loggers (choso.*) in every worker: through a redacting handler on the root logger.
    config["handlers"]["app"] = {
        "formatter": "app",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["redact"],
    }
    config["formatters"] = {
        **LOGGING_CONFIG["formatters"],
        "app": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    }
    config["loggers"]["choso"] = {"handlers": ["app"], "level": level.upper(), "propagate": False}
    return config
