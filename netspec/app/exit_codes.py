"""The exit codes of every command, as ruff's: 0 clean, 1 findings, 2 an error of its own."""

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2  # usage, configuration, I/O or an internal fault
