"""One module per `python -m edge` subcommand (see edge/cli.py for the conventions)."""
