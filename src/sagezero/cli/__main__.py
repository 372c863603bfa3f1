"""`python -m sagezero.cli`: the same command as the `sagezero` script."""

import sys

from sagezero.cli import main

sys.exit(main())
