"""The test suite: a package, so that its files import one another and the programs (``scripts``) by name."""
