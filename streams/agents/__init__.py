"""Stream agents, one module per concern; ``streams.stages`` says which a worker loads."""
