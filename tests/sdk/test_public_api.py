"""The names users import: ``amtune.client`` and ``amtune.Worker`` (re-exported by the lead)."""

from __future__ import annotations

import amtune
import amtune.sdk


def test_top_level_names_are_the_sdk_ones() -> None:
    assert getattr(amtune, "client", None) is amtune.sdk.client, "amtune.client is not wired"
    assert getattr(amtune, "Worker", None) is amtune.sdk.Worker, "amtune.Worker is not wired"
