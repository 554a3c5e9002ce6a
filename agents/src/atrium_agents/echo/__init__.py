"""A model-free graph for benchmarks and smoke tests."""
