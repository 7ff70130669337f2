"""Logging set-up for the command line: UTC ISO timestamps, text for people, JSON lines for log shippers.

Why: cron and systemd runs write to files nobody watches live; a timestamp on every line and one JSON object per
line (``--log-format json``) make them searchable. Library modules only call ``logging.getLogger(__name__)``;
this module decides how records look, and every message goes through ``harness.errors.redact``.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from harness.errors import UsageError, redact

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Attributes every LogRecord has; anything else on a record was passed as ``extra=`` and is shown as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName",
                                                                          "color_message"}  # uvicorn's ANSI copy


def utc_iso(created: float) -> str:
    """A record's time as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, millisecond precision)."""
    t = datetime.fromtimestamp(created, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def extra_fields(record: logging.LogRecord) -> dict:
    """The ``extra=`` fields of a record (progress counters, run ids), in the order they were given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """``2026-11-25T02:15:00.123Z INFO harness.ingest: message key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = "".join(f" {k}={v}" for k, v in extra_fields(record).items())
        line = f"{utc_iso(record.created)} {record.levelname} {record.name}: {record.getMessage()}{fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict = {"ts": utc_iso(record.created), "level": record.levelname, "logger": record.name,
                     "msg": redact(record.getMessage())}
        for k, v in extra_fields(record).items():
            out.setdefault(k, v if isinstance(v, (int, float, bool)) or v is None else redact(v))
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


#: Loggers whose records go through the harness's handler: ours, and uvicorn's (the API's server), so
#: ``--log-format json`` covers the API's startup, shutdown and access lines too.
ROUTED = ("harness", "uvicorn")


def setup_logging(fmt: str = "text", level: str | int = "INFO", stream=None) -> logging.Handler:
    """Send the ``harness`` (and ``uvicorn``) loggers to ``stream`` (stderr) in ``fmt``; replaces a handler set up
    earlier.

    Returns the handler (tests read what it wrote). Bad values raise UsageError naming the option.
    """
    if fmt not in FORMATS:
        raise UsageError(f"--log-format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if isinstance(level, str):
        if level.upper() not in LEVELS:
            raise UsageError(f"--log-level {level!r}: expected one of {', '.join(LEVELS)}")
        level = getattr(logging, level.upper())
    handler = logging.StreamHandler(stream or _Stderr())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    saved = {}
    for name in ROUTED:
        logger = logging.getLogger(name)
        earlier = [h for h in logger.handlers if hasattr(h, "_harness_saved")]
        saved[name] = (earlier[0]._harness_saved[name] if earlier  # type: ignore[attr-defined]
                       else (logger.level, logger.propagate))
        for h in earlier:
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
        logger.disabled = False
        for child_name, child in list(logging.root.manager.loggerDict.items()):
            # a logging config applied earlier in the process (uvicorn's own dictConfig, or any library's with
            # disable_existing_loggers) may have cut a child off: its lines must reach this handler
            if child_name.startswith(name + ".") and isinstance(child, logging.Logger):
                child.disabled = False
                child.propagate = True
    handler._harness_saved = saved  # type: ignore[attr-defined]
    return handler


def teardown_logging(handler: logging.Handler) -> None:
    """Undo setup_logging (a command run in-process, e.g. by a test, leaves logging as it found it)."""
    for name, (level, propagate) in handler._harness_saved.items():  # type: ignore[attr-defined]
        logger = logging.getLogger(name)
        if handler in logger.handlers:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
    handler.flush()


class _Stderr:
    """Whatever sys.stderr is when a record is written (pytest and daemons swap it), not when set up."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
