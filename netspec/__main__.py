"""`python -m netspec`: the same command line as the `netspec` console script."""

from netspec.cli import main

raise SystemExit(main())
