"""Fixtures for the worker tests: a live service in a subprocess (see live.py)."""

from __future__ import annotations

from tests.worker.live import own_service, service

__all__ = ["own_service", "service"]
