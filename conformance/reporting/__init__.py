"""Outputs of a run: the verdict vocabulary and its exit codes, the summary every output file shows, the console's
account, the JUnit file, writing a file whole.

Modules: ``verdict`` (every face's verdicts and the exit code of each), ``summary`` (the suite's verdict rules,
figures, by-requirement table, the JSON summary), ``recorded`` (a failure fails the requirement it is recorded
under in every result, whichever test found it), ``console`` (each cause once, the table, the verdict last),
``junit`` (the one JUnit XML writer, for the suite and ``load``), ``files`` (the atomic writer of every output file).
May import: ``contract``, ``delivery``, ``checks``, ``engine`` and the spine.
"""
