"""Dead letters after the fact: what is on the dead-letter topic, and sending chosen ones
back to the topic they came from once their cause is fixed (``hotline deadletter``)."""
