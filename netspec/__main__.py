"""`python -m netspec`: the same command line as the `netspec` console script."""

from netspec.app.cli import main

raise SystemExit(main())
