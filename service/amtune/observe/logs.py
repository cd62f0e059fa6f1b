"""Log lines: plain text by default, one JSON object per line with ``AMTUNE_LOG_FORMAT=json``.

Built on the standard library's ``logging`` (a formatter, no new dependency): amtune's own
lines, uvicorn's and SQLAlchemy's all pass through the same handler, so one setting turns the
whole process's output into JSON. Every line carries the request it was written for (request
id, account, face, operation) when there is one; application events add their fields through
``extra={"fields": {...}}``. Nothing here ever reads headers or bodies, so no secret can reach
a line through this module.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from amtune.observe.context import current

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        info = current()
        if info is not None:
            line["request_id"] = info.request_id
            line["face"] = info.face
            line["operation"] = info.operation
            if info.account_id is not None:
                line["account_id"] = info.account_id
            if info.error_code is not None:
                line["error_code"] = info.error_code
                line["error_message"] = info.error_message
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(log_format: str, level: str = "INFO") -> None:
    """Send every logger's lines to stderr in the chosen format (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's loggers then propagate to the root handler instead of their own.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
