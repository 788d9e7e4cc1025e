"""The reference receiver: a correct delivery-report endpoint customers can read and copy, and its state reader.

Modules: ``receiver`` (the hardened HTTP server, per-message state in SQLite; standard library only),
``reader`` (what it stored, as a state reader prints it, and its preparer), ``embedded`` (the receiver as a run
without a target starts it: a scratch database, its reader as the default ``--state-cmd``).
May import: nothing of the project (``receiver`` imports nothing at all: it is the example customers copy).
"""
