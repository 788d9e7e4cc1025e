"""The reference receiver: a correct delivery-report endpoint customers can read and copy, and its state reader.

Modules: ``receiver`` (the hardened HTTP server, per-message state in SQLite; standard library only),
``reader`` (what it stored, as a state reader prints it, and its preparer).
May import: nothing of the project (``receiver`` imports nothing at all: it is the example customers copy).
"""
