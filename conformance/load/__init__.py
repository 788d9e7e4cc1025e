"""Campaign-scale load on Locust: the side that runs in Locust's own (gevent) processes, and its outputs.

Modules: ``locustfile`` (the user and its gevent delivery path, the rate steps, counts and ledger lines merged
from workers), ``traffic`` (users per rate and each user's seed, importable without Locust), ``outputs`` (whether
the rate was held, when and how it broke; JSON summary, JUnit), ``stored`` (what the receiver stored after the
load, judged on every message the load delivered). The command itself is :mod:`conformance.cli.load`.
May import: ``contract``, ``delivery``, ``generation``, ``checks``, ``engine``, ``reporting``, ``reference``
and the spine.
"""
