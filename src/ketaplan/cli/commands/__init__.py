"""One module per command; each defines `app` with its one command."""
