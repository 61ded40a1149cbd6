"""`python -m dse.cli …` is the same as `dse …`."""

from dse.cli import main

main()
