"""`python -m cli`: the `buurtbeeld` command without its console script."""

from cli import cli

cli()
