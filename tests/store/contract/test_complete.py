"""The storage contract stays complete: every public function, class and method of the
modules in ``amtune/store/`` is either marked by a contract test here (``@covers``) or named
below with the test that shows its behaviour elsewhere. A new public store function without
either fails this test, and so does a mark or a reference to something the store no longer has.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import amtune.store
import tests.store.contract
from tests.store.contract.support import CONTRACT

ROOT = Path(__file__).resolve().parents[3]

GUARDED_RULES = "tests/store/test_guarded_rules.py"
MIGRATIONS = "tests/test_migrations.py"
FROZEN = "tests/reliability/test_frozen_database.py"
OUTAGE = "tests/reliability/test_postgres_outage.py"
RETRIES = "tests/reliability/test_database_retries.py"
WATCHDOG = "tests/store/test_watchdog.py"

#: Shown by another test: name -> that test file. Not repeated here.
ELSEWHERE: dict[str, str] = {
    # What a completion's guard compares: the ending is written exactly when these values
    # are unchanged, over generated job states.
    "guarded_writes.guard_of": GUARDED_RULES,
    # Transactions, autocommit reads and one-statement writes are what every contract test
    # runs in; their failure modes need a PostgreSQL of their own to break.
    "database.Database": OUTAGE,
    "database.Database.run": RETRIES,
    "database.Database.ping": FROZEN,
    "database.Database.dispose": MIGRATIONS,
    "database.Database.is_sqlite": "tests/service/test_lifecycle.py",
    "database.DatabaseUnavailable": OUTAGE,
    "database.Timeouts": FROZEN,
    "database.Timeouts.watchdog": FROZEN,
    "database.make_engine": MIGRATIONS,
    "database.is_retryable": RETRIES,
    "watchdog.ConnectionWatchdog": WATCHDOG,
    "watchdog.ConnectionWatchdog.watch": WATCHDOG,
    "watchdog.ConnectionWatchdog.look": WATCHDOG,
    "watchdog.quiet_seconds": WATCHDOG,
    # The schema: migrations build exactly these tables, on both backends.
    "models.Base": MIGRATIONS,
    "models.TuningJobRow": MIGRATIONS,
    "models.TrainingJobRow": MIGRATIONS,
    "models.MetricRow": MIGRATIONS,
    "models.AccountRow": MIGRATIONS,
    "models.AccessKeyRow": MIGRATIONS,
    "migrate.upgrade": MIGRATIONS,
    "migrate.head_revision": MIGRATIONS,
    "migrate.alembic_config": MIGRATIONS,
    "migrate.migrations_dir": MIGRATIONS,
}


def _defined_in(module: ModuleType) -> list[tuple[str, object]]:
    return [
        (name, value)
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]


def public_store_names() -> set[str]:
    """``module.function``, ``module.Class`` and ``module.Class.method`` (methods and
    properties written in the class itself) of every module of the store."""
    names: set[str] = set()
    for info in pkgutil.iter_modules(amtune.store.__path__):
        module = importlib.import_module(f"amtune.store.{info.name}")
        for name, value in _defined_in(module):
            names.add(f"{info.name}.{name}")
            if inspect.isclass(value):
                names.update(
                    f"{info.name}.{name}.{member}"
                    for member, attribute in vars(value).items()
                    if not member.startswith("_")
                    and (
                        inspect.isfunction(attribute)
                        or isinstance(attribute, (property, classmethod, staticmethod))
                    )
                )
    return names


def contract_marks() -> dict[str, list[str]]:
    """Store name -> the contract tests that cover it."""
    marks: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(tests.store.contract.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests.store.contract.{info.name}")
        for name, value in vars(module).items():
            if not inspect.isfunction(value):
                continue
            for covered in getattr(value, CONTRACT, ()):
                assert name.startswith("test_"), f"{info.name}.{name} is marked but not a test"
                marks.setdefault(covered, []).append(f"{info.name}.{name}")
    return marks


def test_every_public_store_name_has_a_contract_test_or_a_named_one_elsewhere() -> None:
    public = public_store_names()
    marks = contract_marks()
    missing = sorted(public - set(marks) - set(ELSEWHERE))
    assert not missing, f"public store names without a contract test: {missing}"
    assert not sorted(set(marks) - public), "contract tests mark names the store no longer has"
    assert not sorted(set(ELSEWHERE) - public), "ELSEWHERE names what the store no longer has"
    assert not sorted(set(marks) & set(ELSEWHERE)), "covered both here and elsewhere"


def test_every_test_named_elsewhere_exists() -> None:
    absent = sorted({path for path in ELSEWHERE.values() if not (ROOT / path).is_file()})
    assert not absent, absent


def test_the_contract_covers_every_query_module_of_the_store() -> None:
    """The check above is only as good as its enumeration: it must see the store's query
    modules and the names everyone knows are there."""
    public = public_store_names()
    for module in (
        "repository",
        "guarded_writes",
        "metric_series",
        "accounts",
        "console",
        "pool",
        "stats",
        "migrate",
        "database",
        "models",
        "watchdog",
    ):
        assert any(name.startswith(f"{module}.") for name in public), module
    assert {
        "repository.tuning_job",
        "guarded_writes.report_if_held",
        "database.Database.run",
    } <= public
