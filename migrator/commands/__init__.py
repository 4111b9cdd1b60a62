"""One module per `migrate` subcommand (b4 style)."""
