"""Speed benchmarks: scripts (`python -m bench.perf.NAME [--json OUT]`) that measure the kernel pool, the
perception batcher, the model client, the runtime (`claw bench`), the event sinks, a soak run, frame
extraction, the images-per-prompt limit, Ray scaling and the synthetic suite, print their figures and
write JSON. Speed targets live here, never as timing assertions in unit tests.
"""
