"""``python -m rtmcore`` runs the ``rtmcore`` command line (see :mod:`rtmcore.cli`)."""
from .cli import main

raise SystemExit(main())
