"""Event contracts: one typed record per event, shared by producers, agents, API and tests."""
