"""What the suite's tests need from the session they run in, for them alone (a conftest applies to its folder).

pytest-django's autouse ``_live_server_helper`` requests ``transactional_db`` for every test whose fixtures include
``live_server``, and that flushes the database after the test. The first suite test resolves a project's
``dlr_target_url`` (``live_server.url + "/dlr/"``), so without this the messages it delivered were flushed before
the stored-state checks read them: a false "report lost" (seen, with the Django example). The suite's run opens the
database for the whole suite instead (``conformance.pytest.django_db``).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _live_server_helper() -> None:
    """Nothing for a suite test: no transactional_db, no flush (pytest-django's helper of this name, overridden)."""
