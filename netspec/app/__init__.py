"""The applications over the API: the command line, reports, summary, docs and the language server."""
