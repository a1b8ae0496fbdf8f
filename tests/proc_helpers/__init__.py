"""Helpers for the process tests: a stand-in trainer and the harness that runs it."""
