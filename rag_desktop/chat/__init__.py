"""Conversations in the core (no Qt): turns, their SQLite store, exports and follow-up queries.

A conversation is a list of turns; each turn keeps the question, the standalone query that was
retrieved for it, the answer with its sources, model and timings, and the settings it ran with.
"""
