"""The faust app: topics, agents, tables and timers (thin wiring around the domain packages)."""
