"""Benchmark scripts and their helpers (``python bench/<script>.py`` from the repository root)."""
