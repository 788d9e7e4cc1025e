"""``python -m conformance.cli``: the same as the ``dlr-conformance`` command."""

import sys

from conformance.cli import main

sys.exit(main())
