"""`python -m claw.cli`: the `claw` command."""

import sys

from claw.cli import main

sys.exit(main())
