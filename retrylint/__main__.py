"""`python -m retrylint` runs the CLI, through the entry point that replays unchanged checks."""

from retrylint.replay import main

main()
