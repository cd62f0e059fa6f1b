"""Fixtures for the SDK tests: the same live service as the worker tests (see worker/live.py)."""

from __future__ import annotations

from tests.worker.live import own_service, service

__all__ = ["own_service", "service"]
