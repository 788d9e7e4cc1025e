"""Outputs of a run: the verdict rules, the summary every report shows, the console's account.

Modules: ``summary`` (verdict, figures, by-requirement table, the JSON summary), ``console`` (each cause once, the
table, the verdict last).
May import: ``contract``, ``delivery``, ``checks``, ``engine`` and the spine.
"""
