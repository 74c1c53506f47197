"""The `dentops` command line."""
