"""``python -m streams.cli`` runs the ``ledger`` command."""

import sys

from streams.cli.main import main

sys.exit(main())
