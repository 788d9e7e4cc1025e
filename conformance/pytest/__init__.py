"""The pytest face: a thin plugin over the library, inert unless the suite is asked for.

Modules: ``plugin`` (the ``pytest11`` entry point ``dlr_conformance``: options, fixtures, hooks), ``progress``
(the live progress line), ``html_report`` (pytest-html hooks: verdict banner, facts, table, evidence),
``django_db`` (the suite in a pytest-django session: the test database, open for the whole suite).
May import: everything below it (``contract``, ``delivery``, ``generation``, ``checks``, ``engine``,
``reporting``, ``reference``) and the spine; never ``cli`` or ``load``.
"""
