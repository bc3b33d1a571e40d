"""Real-server harnesses shared by tests, benchmarks and the demo."""
