"""The engine: delivering, judging, keeping evidence, reading the stored state back -- for the suite, ``send`` and
``load`` alike; what every output reads.

Modules: ``run`` (``Run``: sender, options, figures, ledger, preparer; ``Driver``, what one suite test drives the
target with; the evidence cap), ``judge`` (one judging of an answer: the checks, the words of the answer),
``ledger`` (per message, the reports sent and their answers: the suite's form and the load's compact one),
``store`` (the customer's state reader and preparer, the probe before the first delivery, the poll loop),
``plan`` (the scenarios rehearsed before the first delivery, so that the preparer is called once for all of
their messages), ``generated`` (the generated check in the main process: pipelined delivery, judging, shrink steps),
``quantiles`` (latency quantiles in constant memory).
May import: ``contract``, ``delivery``, ``generation``, ``checks`` and the spine.
"""
