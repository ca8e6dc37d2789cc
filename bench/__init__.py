"""Benchmarks that print figures; targets on speed and memory live here, never in timed tests."""
