"""The bench/load run in miniature: 8 workers for 5 seconds, on both backends.

It asserts the benchmark's pass condition (no error, no duplicate claim, the server's records
equal to what the workers were told, job for job) and never a speed: figures go to
bench/LOAD_RESULTS.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from amtune.settings import Settings
from tests.conftest import LiveServer, new_account_id

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.load.__main__ import create_jobs, verify
from bench.load.generator import run_load

pytestmark = pytest.mark.slow


def test_load_smoke_8_workers_for_5_seconds(own_database: str) -> None:
    settings = Settings(database_url=own_database, account_id=new_account_id())
    with LiveServer(settings) as live:
        targets = create_jobs([live.url], 2, max_parallel=4)
        result = asyncio.run(run_load(targets, 8, duration=4.0, reports=3, warmup=1.0))
        assert result.errors == [] and result.duplicates == 0
        # The warm-up's answers are served and verified, only not timed.
        assert result.answered_total >= 5 * len(result.completed) > 0
        assert 0 < result.operations < result.answered_total
        assert all(t >= 0 for t in result.answered_at)
        assert verify(targets, result) == []
