"""Benchmarks of the grappe solver against peer methods (max-p, k-means-constrained, greedy)."""
