"""``python -m ledger_cli`` runs the ``ledger`` command."""

import sys

from ledger_cli.main import main

sys.exit(main())
