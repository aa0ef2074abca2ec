"""The PySide6 desktop front end: a thin layer over the core, driven by one worker thread."""
