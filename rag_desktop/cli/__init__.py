"""The command line (rag-desktop): argument parsing and the sub-commands, on the core session."""
