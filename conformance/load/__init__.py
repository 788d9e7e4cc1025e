"""Campaign-scale load on Locust: the side that runs in Locust's own (gevent) processes, and its outputs.

Modules: ``locustfile`` (the user, the rate steps, counts and ledger lines merged from workers), ``outputs``
(whether the rate was held, when and how it broke; JSON summary, JUnit), ``stored`` (the compact ledger of every
report the load delivered, judged against the state reader). The command itself is :mod:`conformance.cli.load`.
May import: ``contract``, ``delivery``, ``generation``, ``checks``, ``engine``, ``reporting``, ``reference``
and the spine.
"""
