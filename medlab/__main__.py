"""``python -m medlab`` runs the command line."""

import sys

from medlab.cli import main

sys.exit(main())
