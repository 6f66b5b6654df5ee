"""Benchmarks of the pure accounting core."""
