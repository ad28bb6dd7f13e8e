"""Errors an analyst can act on. Their text is shown as-is (Dutch), so it names file, row and column."""


class LoadError(Exception):
    """The input file cannot be loaded; nothing was written to the warehouse."""
