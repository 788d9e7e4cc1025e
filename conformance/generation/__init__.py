"""What is delivered: payloads drawn from the contract, deliberate edge cases, campaign traffic, run-tagged ids.

Modules: ``payloads`` (Hypothesis strategies), ``aspects`` (what a payload exercises: realistic, or one aspect
judged at its own requirement; unique run-tagged ids), ``cases`` (named edge cases per requirement), ``worker``
(the generator process: seeded search, replay, shrink), ``campaign`` (templates stamped per callback for ``load``).
May import: ``contract`` and the spine.
"""
