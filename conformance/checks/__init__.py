"""Judging: named checks of one answer and of what the receiver stored, raising typed failures.

Modules: ``answers`` (checks ``(exchange, context) -> None`` registered with ``@check``, raising ``Failure`` or
``Warned``), ``stored`` (what was sent about a message, the comparisons with a stored row, and the scenario checks
registered with ``@scenario_check``), ``listing`` (the catalogue with its checks, as ``--list-checks`` prints it).
May import: ``contract``, ``delivery`` and the spine.
"""
