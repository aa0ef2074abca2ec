"""The tabs and dialogs of the main window; each is a thin view over the engine."""
