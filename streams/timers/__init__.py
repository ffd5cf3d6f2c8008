"""Periodic and start-up tasks, one module each; ``streams.stages`` says which a worker loads."""
