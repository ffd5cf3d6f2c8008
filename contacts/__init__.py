"""The restricted contact store: real contact details, reachable only by contact reference."""
