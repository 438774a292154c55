"""``python -m edge`` → ``edge.cli.main``."""

from edge.cli import main

raise SystemExit(main())
