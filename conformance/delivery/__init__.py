"""Delivering callbacks exactly as the platform does: POST, headers, TLS rules, no redirects, deadlines, retries.

Modules: ``sender`` (``Sender``, ``Exchange``, the platform's retry policy), ``transport`` (a ``requests``
adapter whose deliveries end at a deadline), ``errors`` (whatever ``requests`` raised, as a ``TransportError`` in
plain words), ``ratelimit`` (at most R requests in any one-second window), ``masking`` (secrets out of every output).
May import: ``contract``.
"""
