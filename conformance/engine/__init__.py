"""One run: delivering, judging, keeping evidence; what every output reads.

Modules: ``run`` (``Run``: sender, options, figures, ledger, preparer; the per-test driver), ``generated`` (the
generated check in the main process: pipelined delivery, judging, shrink steps), ``ledger`` (per message, the
reports sent and their answers), ``store`` (the customer's state reader and preparer), ``quantiles`` (latency
quantiles in constant memory).
May import: ``contract``, ``delivery``, ``generation``, ``checks`` and the spine.
"""
