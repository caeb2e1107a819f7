"""`python -m retrylint` runs the CLI."""

from retrylint.cli import main

main()
