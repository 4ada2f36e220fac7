"""Shared vocabulary and small pure helpers used by the store, the coding engine and the UI.

Nothing in this package may import Textual or the database layer.
"""
