"""Per-request overheads of the serving machinery, each against the alternative it replaced.

``python -m bench.load.overheads [--admin-url URL] [--calls N] [--rounds N]`` prints, as
medians of ``--rounds`` rounds run alternately in this one process (the machine is shared
and noisy, so only the side-by-side ratio is worth quoting):

* **thread hand-off**: process CPU per call of a trivial function sent to a worker thread and
  awaited, through anyio (Starlette's ``run_in_threadpool``) and through the event loop's
  executor (what :class:`amtune.api.worker_routes.WorkerRoutes` uses), eight calls in flight
  as under load;
* **one-statement run on PostgreSQL**: process CPU per ``Database.run(one_statement=True)`` of
  ``SELECT 1``, against the same on a pooled connection switched to autocommit per checkout
  (the previous setup, rebuilt here as the peer);
* **full collection**: the pause of ``gc.collect()`` in a process that has built the app, before
  and after ``gc.freeze()`` (what the app's lifespan does at start).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import uvloop
from sqlalchemy import literal, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from amtune.api.app import create_app
from amtune.settings import Settings
from amtune.store.database import Database, make_engine

IN_FLIGHT = 8


def _trivial(value: int) -> int:
    return value


async def _hand_offs(calls: int) -> dict[str, float]:
    """CPU microseconds per hand-off, anyio's and the executor's, in one round."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=4)

    async def via_anyio(n: int) -> None:
        for _ in range(n):
            await run_in_threadpool(_trivial, 1)

    async def via_executor(n: int) -> None:
        for _ in range(n):
            await loop.run_in_executor(executor, functools.partial(_trivial, 1))

    costs = {}
    for name, chain in (("anyio", via_anyio), ("executor", via_executor)):
        start = time.process_time()
        await asyncio.gather(*(chain(calls // IN_FLIGHT) for _ in range(IN_FLIGHT)))
        costs[name] = (time.process_time() - start) * 1e6 / calls
    executor.shutdown()
    return costs


def _per_call(call: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - start) * 1e6 / calls


def _statement_costs(url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    statement = select(literal(1))
    database = Database(url, pool_size=4)
    switched = make_engine(url, pool_size=4).execution_options(isolation_level="AUTOCOMMIT")
    switched_sessions = sessionmaker(switched, expire_on_commit=False)

    def current() -> object:
        return database.run(lambda s: s.execute(statement).first(), one_statement=True)

    def previous() -> object:
        session: Session
        with switched_sessions() as session, session.begin():
            return session.execute(statement).first()

    costs: dict[str, list[float]] = {"autocommit pool": [], "switched per checkout": []}
    for call in (current, previous):
        _per_call(call, 200)  # connections opened, statements cached
    for _ in range(rounds):
        costs["autocommit pool"].append(_per_call(current, calls))
        costs["switched per checkout"].append(_per_call(previous, calls))
    database.dispose()
    switched.dispose()
    return costs


def _collection_pauses() -> dict[str, float]:
    create_app(Settings(database_url="sqlite://"))
    pauses = {}
    for name in ("app loaded", "after freeze"):
        if name == "after freeze":
            gc.freeze()
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            gc.collect()
            samples.append((time.perf_counter() - start) * 1000)
        pauses[name] = statistics.median(samples)
    gc.unfreeze()
    return pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    hand_offs: dict[str, list[float]] = {"anyio": [], "executor": []}
    for _ in range(args.rounds):
        for name, cost in uvloop.run(_hand_offs(args.calls)).items():
            hand_offs[name].append(cost)
    statements = _statement_costs(args.admin_url, args.calls // 4, args.rounds)
    pauses = _collection_pauses()

    def line(label: str, new: list[float], old: list[float], unit: str) -> str:
        a, b = statistics.median(new), statistics.median(old)
        return f"{label}: {a:.0f} {unit} vs {b:.0f} {unit} (ratio {a / b:.2f})"

    print(
        line(
            "thread hand-off, executor vs anyio",
            hand_offs["executor"],
            hand_offs["anyio"],
            "us CPU",
        )
    )
    print(
        line(
            "one-statement run, autocommit pool vs switched per checkout",
            statements["autocommit pool"],
            statements["switched per checkout"],
            "us CPU",
        )
    )
    frozen, loaded = pauses["after freeze"], pauses["app loaded"]
    print(f"full collection: {frozen:.1f} ms after freeze vs {loaded:.1f} ms with the app loaded")


if __name__ == "__main__":
    main()
