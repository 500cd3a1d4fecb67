"""`python -m yomitori` runs the command line."""

from yomitori.cli import main

main()
