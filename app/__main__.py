"""`python -m app` is the `oipserve` command."""

import sys

from app.cli import main

sys.exit(main())
