"""Contract suites that any new storage (and later sampler or scheduler) must pass."""
