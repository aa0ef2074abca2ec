"""`python -m rag_desktop`: the command line (no sub-command starts the desktop app)."""

import sys

from rag_desktop.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
