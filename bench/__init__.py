"""Benchmarks: each script starts what it measures and prints one table (see the README)."""
