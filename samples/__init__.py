"""Sample traffic for demos, tests and benchmarks, derived from the shared real appeals."""
