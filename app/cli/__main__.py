"""`python -m app.cli`: the same as the `nextbest` script."""

from app.cli import main

main()
