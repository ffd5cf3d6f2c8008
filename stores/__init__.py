"""Redis adapters for intake state: the restricted contact store and the seen-appeals index."""
