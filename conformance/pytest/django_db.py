"""The suite in a pytest-django session: the test database, open for the whole suite, never flushed under it.

pytest-django blocks database access outside the tests that ask for it, creates the test database only when a
selected test asks for it, and flushes the database after each transactional test (every test that uses
``live_server``). The suite's tests ask for none of that, so without this module a session whose selection has no
database test ran the team's live server on the developer's own database, and a suite test that used
``live_server`` had it flushed before the stored-state checks read it. When pytest-django is active and Django is
configured, the suite's run fixture instead:

- sets up the test database (``django_db_setup``) before the target is resolved: never the developer's database;
- opens database access through ``django_db_blocker`` from the first suite test to the end of the session (the
  suite runs last): a live server answering a kept-alive connection between two tests finds it open, and a
  reader or preparer fixture reads through the same switch;
- resolves the team's ``dlr_target_url`` fixture dynamically, so that ``live_server`` is not in any suite test's
  static closure and pytest-django's per-test helper never requests ``transactional_db`` (and its flush) for it;
- lets the target's host through ``ALLOWED_HOSTS``, as pytest-django's helper does for its own live server tests.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

__all__ = ["active", "allow_host", "open_database", "remember"]

_OWN_NAMES = pytest.StashKey[dict[str, str]]()


def active(config: pytest.Config) -> bool:
    """Whether pytest-django runs in this session with Django configured (settings given)."""
    if not config.pluginmanager.hasplugin("django"):
        return False
    try:
        from pytest_django.lazy_django import django_settings_is_configured
    except ImportError:  # pragma: no cover - a plugin named "django" that is not pytest-django
        return False
    return bool(django_settings_is_configured())


def remember(config: pytest.Config) -> None:
    """The databases' own names, before any test database replaces them (called when the session configures)."""
    from django.conf import settings

    config.stash[_OWN_NAMES] = {alias: str(db.get("NAME")) for alias, db in settings.DATABASES.items()}


def open_database(request: pytest.FixtureRequest) -> None:
    """The test database set up, and database access open until the end of the session.

    ``django_db_setup`` sets up the databases that the selected tests ask for: none when no test of the project's
    own is selected, and the suite's tests ask for none. Then the default database's test database is set up here,
    with Django's own ``setup_databases`` and pytest-django's ``--reuse-db`` and ``--create-db``."""
    request.getfixturevalue("django_db_setup")  # the test environment, and the project's tests' databases
    blocker = request.getfixturevalue("django_db_blocker")
    blocker.unblock()
    request.addfinalizer(blocker.restore)
    from django.db import DEFAULT_DB_ALIAS, connections

    own = request.config.stash.get(_OWN_NAMES, {}).get(DEFAULT_DB_ALIAS)
    if own is None or str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]) != own:
        return  # already the test database
    from django.test.utils import setup_databases, teardown_databases

    keep = bool(request.getfixturevalue("django_db_keepdb")) and not request.getfixturevalue("django_db_createdb")
    created = setup_databases(verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS}, keepdb=keep)
    request.addfinalizer(lambda: teardown_databases(created, verbosity=0, keepdb=keep))
    if str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]) == own:  # never the project's own data
        raise pytest.UsageError(f"the test database could not be set up: the database is still {own!r}.")


def allow_host(request: pytest.FixtureRequest, url: str) -> None:
    """The target's host added to ``ALLOWED_HOSTS`` until the end of the session."""
    from django.test.utils import modify_settings

    host = urlsplit(url).hostname
    if not host:
        return
    change = modify_settings(ALLOWED_HOSTS={"append": host})
    change.enable()
    request.addfinalizer(change.disable)
