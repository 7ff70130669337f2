"""Hypothesis profiles: `ci` (fixed budget, derandomized) is the default; HYPOTHESIS_PROFILE=dev explores more.
And the database factories every test folder shares (new_db, module_db)."""
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def database_factory(warehouse_settings, prefix: str):
    """Generator behind new_db / module_db: make() -> a client on a new empty database with the schema; every
    database made is dropped when the generator is closed."""
    import secrets
    from dataclasses import replace

    from harness.warehouse import connect, drop_database
    from harness.warehouse.schema import apply_schema

    if warehouse_settings.prod:
        pytest.skip("tests that make their own databases never run against production")
    made = []

    def make():
        s = replace(warehouse_settings, database=f"{prefix}_{secrets.token_hex(4)}")
        c = connect(s)
        apply_schema(c)
        made.append((c, s.database))
        return c

    yield make
    for c, name in made:
        drop_database(c, name)


@pytest.fixture
def new_db(warehouse_settings):
    """Factory: new_db() -> a client on a new empty database with the schema; all dropped after the test."""
    yield from database_factory(warehouse_settings, "ing")


@pytest.fixture(scope="module")
def module_db(warehouse_settings):
    """The same factory for a module's tests (databases dropped when the module ends)."""
    yield from database_factory(warehouse_settings, "mod")
