"""Log set-up for claw's processes (the CLI and the helper servers): structlog lines on stderr, never
stdout, so logs cannot mix with a command's output or a server's readiness line. Tracebacks are
rendered as plain text (no terminal colours or pretty-printer), and DEBUG is dropped unless asked for."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]


def configure_logging(level: int = logging.INFO) -> None:
    """Send structlog output to stderr as `timestamp [level] event key=value` lines."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
