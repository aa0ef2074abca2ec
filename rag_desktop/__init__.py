"""rag-desktop: offline question answering over PDF manuals with small local LLMs."""

__version__ = "0.1.0"
