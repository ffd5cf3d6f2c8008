"""All configuration, read from ``HOTLINE_*`` environment variables with documented defaults.

One module per concern; ``config.env.REGISTRY`` lists every variable once the modules are imported.
"""
