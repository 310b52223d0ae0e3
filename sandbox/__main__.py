"""``python -m sandbox --port 8010``: serve both simulators in the foreground (see `sandbox.cli`)."""

import sys

from sandbox.cli import main

sys.exit(main())
