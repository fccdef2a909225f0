"""Run the command line as `python -m govbot`."""

from govbot.cli import main

raise SystemExit(main())
