"""SLA engine (时限管理): working-time calendar, time-limit policies, clocks, alerts.

Pure logic (no I/O): :mod:`sla.calendar`, :mod:`sla.working_time`, :mod:`sla.policies`,
:mod:`sla.clocks`, :mod:`sla.events`. Redis adapter: :mod:`sla.redis_store` (layout in
``sla/REDIS_LAYOUT.md``), with :mod:`sla.alerts`, :mod:`sla.rebuild`, :mod:`sla.queries`
on top. What a stream worker calls:

* ``await store.apply_batch(records)`` / ``apply_assignment(...)`` / ``apply_event(ev)``
  → :class:`sla.events.Outcome` per record (applied / duplicate / rejected + reason);
* ``await AlertScanner(store, publish).tick(now)`` from a timer;
* ``await rebuild(store, records, as_of)`` to recreate Redis from the streams.
"""
