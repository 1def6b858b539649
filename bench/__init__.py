"""Benchmarks: csirt measured against this machine's own limits (python -m bench.run)."""
