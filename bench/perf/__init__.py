"""Speed benchmarks: scripts that measure claw's pools, batcher and runtime, print their figures and write
JSON. Speed targets live here, never as timing assertions in unit tests.
"""
