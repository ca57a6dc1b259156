"""What claw evaluates: benchmark suites, scoring, and runtime performance benchmarks."""
