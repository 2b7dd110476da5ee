"""`python -m truceline.cli`: the command line."""

from truceline.cli import main

main()
