"""Real-server test harnesses (fixtures) shared by every engineer's tests."""
