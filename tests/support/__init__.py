"""What the tests share: one way to run each thing, one way to serve, the receivers they fire the suite at.

- :mod:`~tests.support.cli`: the in-process CLI runner, ``invoke(*args)`` = ``conformance.cli.main(argv)``; the
  default way to run a command.
- :mod:`~tests.support.process`: the subprocess runner, only where the process is the point (signals, a
  terminal, an installed wheel, Locust, the reference receiver as a server, the interpreter's exit).
- :mod:`~tests.support.servers`: the one HTTP test-server helper (handler classes, WSGI apps, a recording
  receiver that answers by a function or a script) and a raw TCP server for what HTTP cannot say.
- :mod:`~tests.support.runs`: runs of the suite (in-process, as a process, through pytester) and their reports.
- :mod:`~tests.support.receivers`, :mod:`~tests.support.faults`, :mod:`~tests.support.fault_table`: the correct
  receivers, one faulty receiver per way a customer's goes wrong, and how the suite must catch each.
- :mod:`~tests.support.stateful`, :mod:`~tests.support.postgres`: receivers judged by what they store.
- :mod:`~tests.support.devloop`: the reference receiver served by ``dlr-conformance serve``, and its reader.
- :mod:`~tests.support.draws`: seeded callbacks drawn as the worker draws them, in a fresh interpreter.
- :mod:`~tests.support.tools`: what ``scripts/test.sh`` prepares for the ecosystem tests (wheelhouse, parser), and
  fixtures' results made once per session for every pytest-xdist worker.

Importable as ``tests.support`` because ``tests`` is a package at the repository's root (pytest puts the root on
``sys.path`` for a test package, as the editable install does).
"""
