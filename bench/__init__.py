"""Funnel's benchmark harness: ``python -m bench`` (or ``make bench``); not part of the test suite."""
