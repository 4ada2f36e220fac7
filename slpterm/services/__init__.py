"""Glue between the store and the pure domain: turning stored sessions into coded encounters."""
