"""The SLA state in Redis (redis-py asyncio): case hashes, the due zset, department indexes.

Key layout and memory per case: ``sla/REDIS_LAYOUT.md``. In short, under the prefix:

* ``c:<appeal_id>`` hash: ``d`` department, ``t`` packed thresholds and district/category
  codes (read by Lua), ``b`` packed clocks and policy code, ``v`` version, ``f`` fired bits.
* ``due`` zset: appeal id → earliest threshold not yet claimed.
* ``o:<department>:<bucket>`` hashes: open cases of the department.
* ``L``, ``L:di:<code>``, ``L:ca:<code>`` sets: cases that reached warn80.
* ``inflight`` zset (alert id → lease time) and ``alerts`` hash (alert id → payload).
* ``n``, ``n:r``, ``n:seq``: interned names (policy, district, category) ↔ small codes.

Writes are computed in Python by :class:`~sla.events.SlaEngine` and stored by a Lua
script that checks, per case, the version the new state was computed from
(compare-and-set), so a concurrent writer or a replayed record can never interleave
half-updates; on a conflict the case's records are recomputed from the fresh state.
Duplicate records are recognised by the ring of recent record ids inside the state, so
a redelivered record is a no-op. Reads and writes each take one Lua call per batch.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from config.sla import DEFAULTS, SlaSettings
from models.sla_alert import SlaAlert
from sla.calendar import CalendarRangeError
from sla.clocks import MAX_EXT_ID, CaseState, CaseStatus, Clock, HopPhase, next_due, reset_mask
from sla.events import (
    RING,
    AssignmentIn,
    CaseEventLike,
    Outcome,
    Reason,
    SlaEngine,
    rejected,
)
from sla.policies import ClockMode
from stores.key_pattern import under

log = logging.getLogger(__name__)
_LUA = Path(__file__).resolve().parent / "lua"
_F_CASE_WORKING, _F_HOP, _F_HOP_WORKING = 1, 2, 4

#: ``t`` field, shared with Lua (48 bytes; see ``sla/lua/common.lua``): round, hop,
#: phase, fired bits, version, department / district / category codes, 8 thresholds.
T_FMT = struct.Struct(">HHBBIHHH8I")
#: ``b`` field, Python's alone: status, flags, policy code, hop_assigned_at, case clock
#: (limit, used, since), hop clock (limit, used, since), ext_used, ext_requested,
#: last_at, number of recent ids; then up to 4 five-byte id digests.
B_FMT = struct.Struct(">BBHIIIIIIIBBIB")
#: Redis keeps a hash as a compact listpack while every value is ≤ 64 bytes
#: (hash-max-listpack-value); ``b`` is at most 39 + 20 = 59, ``t`` 48. With two fields
#: the listpack stays ≤ 128 bytes, one jemalloc size class (see REDIS_LAYOUT.md).
B_MAX = B_FMT.size + 5 * RING
_MAX_CODE = 0xFFFF
_RETRIES = 8
#: Interned name spaces: policy key, department, district, category.
_NS_POLICY, _NS_DEPT, _NS_DISTRICT, _NS_CATEGORY = "k:", "d:", "di:", "ca:"
_HEAD = struct.Struct(">BB")
#: a name after the cases read by ``read.lua``: code, length of the name
_NAME = struct.Struct(">HI")
#: bucket, expected version, fired bits to clear, old department code, closed
_CAS = struct.Struct(">HIBHB")


@dataclass
class Recomputed:
    """What :meth:`SlaStore.recompute_deadlines` did."""

    examined: int  # cases with a pending threshold
    moved: int = 0  # cases whose threshold instants changed
    #: cases whose new deadlines would fall past the calendar: they keep the old ones
    out_of_range: list[str] = field(default_factory=list)


#: (stored state or None, new state) of the cases one compare-and-set call writes.
_Rewrites = list[tuple[CaseState | None, CaseState]]


class ConcurrencyError(RuntimeError):
    """A case kept changing under us (another writer on the same case)."""


@dataclass(frozen=True)
class Codes:
    """Interned codes of a state's names (0 = none)."""

    policy: int
    department: int
    district: int
    category: int


def pack_state(state: CaseState, times: tuple[int, ...], codes: Codes) -> tuple[bytes, bytes]:
    """The ``t`` (shared with Lua; fired bits 0, Lua keeps its own) and ``b`` fields."""
    hop = state.hop_clock
    flags = (_F_CASE_WORKING if state.case_clock.mode is ClockMode.WORKING else 0) | (
        (_F_HOP | (_F_HOP_WORKING if hop.mode is ClockMode.WORKING else 0)) if hop else 0
    )
    c = state.case_clock
    t = T_FMT.pack(
        state.round,
        state.hop,
        # the high nibble: extensions approved, for the clock ids Lua writes into alerts
        int(state.phase) | min(state.ext_used, MAX_EXT_ID) << 4,
        state.fired,
        state.version,
        codes.department,
        codes.district,
        codes.category,
        *times,
    )
    b = B_FMT.pack(
        int(state.status),
        flags,
        codes.policy,
        state.hop_assigned_at,
        c.limit,
        c.used,
        c.since,
        hop.limit if hop else 0,
        hop.used if hop else 0,
        hop.since if hop else 0,
        state.ext_used,
        state.ext_requested,
        state.last_at,
        len(state.recent),
    ) + b"".join(d.to_bytes(5, "big") for d in state.recent)
    return t, b


def unpack_state(appeal_id: str, t: bytes, b: bytes) -> tuple[CaseState, tuple[int, ...], Codes]:
    """State (names left empty), threshold instants and name codes from a case hash.

    :class:`SlaStore` turns the codes back into names.
    """
    rnd, hop_no, phase, fired, version, dept, di, ca, *times = T_FMT.unpack(t)
    (
        status,
        flags,
        policy,
        hop_at,
        cl,
        cu,
        cs,
        hl,
        hu,
        hs,
        ext_used,
        ext_req,
        last_at,
        n,
    ) = B_FMT.unpack_from(b)
    off = B_FMT.size
    recent = tuple(int.from_bytes(b[off + 5 * i : off + 5 * i + 5], "big") for i in range(n))
    mode = ClockMode.WORKING if flags & _F_CASE_WORKING else ClockMode.WALL
    hop_clock = None
    if flags & _F_HOP:
        hmode = ClockMode.WORKING if flags & _F_HOP_WORKING else ClockMode.WALL
        hop_clock = Clock(hmode, hl, hu, hs)
    state = CaseState(
        appeal_id=appeal_id,
        policy="",
        department="",
        district="",
        category="",
        case_clock=Clock(mode, cl, cu, cs),
        status=CaseStatus(status),
        round=rnd,
        hop=hop_no,
        hop_assigned_at=hop_at,
        phase=HopPhase(phase & 0x0F),
        hop_clock=hop_clock,
        ext_used=ext_used,
        ext_requested=ext_req,
        last_at=last_at,
        recent=recent,
        version=version,
        fired=fired,
    )
    return state, tuple(times), Codes(policy, dept, di, ca)


def _script(name: str) -> str:
    return (_LUA / "common.lua").read_text() + "\n" + (_LUA / name).read_text()


def _usable_id(appeal_id: object) -> bool:
    """Whether the scripts can frame the id (length byte, newline-joined lists)."""
    return (
        isinstance(appeal_id, str)
        and bool(appeal_id)
        and "\n" not in appeal_id
        and len(appeal_id.encode()) <= 200
    )


def dept_bucket(appeal_id: str, buckets: int) -> int:
    """Which of a department's index hashes holds the case (stable across processes)."""
    return zlib.crc32(appeal_id.encode()) % buckets


class SlaStore:
    """Async adapter between :class:`SlaEngine` and Redis. One instance per process.

    Stop every worker before a :meth:`wipe` or a rebuild: workers cache the interned
    codes of names, which a wipe resets.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        engine: SlaEngine | None = None,
        settings: SlaSettings | None = None,
        prefix: str | None = None,
    ) -> None:
        if client.get_encoder().decode_responses:
            raise ValueError("SlaStore needs a Redis client with decode_responses=False")
        self.r = client
        self.settings = settings or DEFAULTS
        self.engine = engine or SlaEngine.from_settings(self.settings)
        self.prefix = self.settings.redis_prefix if prefix is None else prefix
        self.buckets = self.settings.dept_buckets
        self._read = client.register_script(_script("read.lua"))
        self._apply = client.register_script(_script("apply.lua"))
        self._claim = client.register_script(_script("claim.lua"))
        self._redeliver = client.register_script(_script("redeliver.lua"))
        self._intern = client.register_script(_script("intern.lua"))
        # Caches of the interned names, stale if Redis loses its data: the scripts check
        # the codes a write uses (apply.lua) and read the names back with the cases.
        self._codes: dict[str, int] = {"": 0}  # namespaced name → code
        self._names: dict[int, str] = {0: ""}  # code → namespaced name

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SlaStore:
        """A store on a new client for ``url`` (``redis://host:port/db``)."""
        return cls(aioredis.Redis.from_url(url, decode_responses=False), **kwargs)

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        await self.r.aclose()

    # -- keys ---------------------------------------------------------------------------

    def case_key(self, appeal_id: str) -> str:
        """Key of a case hash."""
        return f"{self.prefix}c:{appeal_id}"

    @property
    def calendar_key(self) -> str:
        """String: fingerprint of the working-time axis the stored deadlines were computed on."""
        return f"{self.prefix}calendar"

    @property
    def due_key(self) -> str:
        """Key of the due zset."""
        return self.prefix + "due"

    @property
    def inflight_key(self) -> str:
        """Key of the zset of claimed, unacknowledged alerts."""
        return self.prefix + "inflight"

    @property
    def alerts_key(self) -> str:
        """Key of the hash of unacknowledged alert payloads."""
        return self.prefix + "alerts"

    def dept_keys(self, code: int) -> list[str]:
        """Keys of the index hashes (open case ids) of the department with this code."""
        return [f"{self.prefix}o:{code}:{b}" for b in range(self.buckets)]

    def _late_key(self, kind: str = "", code: int = 0) -> str:
        return f"{self.prefix}L" + (f":{kind}:{code}" if kind else "")

    # -- interned names -------------------------------------------------------------------

    async def codes(self, names: Iterable[str]) -> dict[str, int]:
        """Codes of namespaced names (``ca:…``), creating missing ones atomically."""
        names = list(dict.fromkeys(names))
        missing = [n for n in names if n not in self._codes]
        if missing:
            keys = [self.prefix + "n", self.prefix + "n:r", self.prefix + "n:seq"]
            got = await self._intern(keys=keys, args=missing)
            if max(got) > _MAX_CODE:
                raise OverflowError("more than 65535 interned names: codes are u16 in `t`")
            for n, c in zip(missing, got, strict=True):
                self._codes[n] = int(c)
                self._names[int(c)] = n
        return {n: self._codes[n] for n in names}

    async def names(self, codes: Iterable[int], fresh: bool = False) -> dict[int, str]:
        """Namespaced names of codes (unknown codes map to ``""``); ``fresh``: as Redis
        holds them now, not as cached."""
        codes = list(dict.fromkeys(int(c) for c in codes))
        ask = [c for c in codes if c and (fresh or c not in self._names)]
        got: dict[int, str] = {}
        if ask:
            raw = await self.r.hmget(self.prefix + "n:r", ask)
            got = {c: n.decode() if n is not None else "" for c, n in zip(ask, raw, strict=True)}
            self._learn(got)
        return {c: got[c] if c in got else self._names.get(c, "") for c in codes}

    def _learn(self, names: dict[int, str]) -> None:
        """Cache code → name pairs just read from Redis. One that contradicts the cache
        means Redis lost the names and handed codes out anew: forget them all."""
        if any(self._names.get(c, n) != n for c, n in names.items()):
            self._forget_names()
        for c, n in names.items():
            if n:
                self._names[c] = n
                self._codes[n] = c

    def _forget_names(self) -> None:
        self._codes = {"": 0}
        self._names = {0: ""}

    async def code_of(self, namespace: str, name: str) -> int | None:
        """Existing code of a name, without creating one (queries)."""
        key = namespace + name
        if key not in self._codes:
            c = await self.r.hget(self.prefix + "n", key)
            if c is None:
                return None
            self._codes[key] = int(c)
            self._names[int(c)] = key
        return self._codes[key]

    # -- reading --------------------------------------------------------------------------

    async def _read_many(self, appeal_ids: Sequence[str]) -> dict[str, CaseState | None]:
        out: dict[str, CaseState | None] = dict.fromkeys(appeal_ids)
        # an id the scripts cannot frame names no case (apply_batch refuses them)
        ids = [aid for aid in out if _usable_id(aid)]
        if not ids:
            return out
        blob = await self._read(args=[self.prefix, "\n".join(ids)])
        raw: list[tuple[CaseState, Codes] | None] = []
        pos = 0
        for aid in ids:
            lt, lb = _HEAD.unpack_from(blob, pos)
            pos += _HEAD.size
            if not lt:
                raw.append(None)
                continue
            state, times, codes = unpack_state(
                aid, blob[pos : pos + lt], blob[pos + lt : pos + lt + lb]
            )
            state.times = times  # lets the engine skip recomputing unchanged clocks
            pos += lt + lb
            raw.append((state, codes))
        # then the names of the codes met, as Redis holds them now
        names = {0: ""}
        while pos < len(blob):
            code, n = _NAME.unpack_from(blob, pos)
            pos += _NAME.size
            names[code] = blob[pos : pos + n].decode()
            pos += n
        self._learn(names)
        for aid, r in zip(ids, raw, strict=True):
            if r is None:
                continue
            state, c = r
            state.policy = names.get(c.policy, "").removeprefix(_NS_POLICY)
            state.department = names.get(c.department, "").removeprefix(_NS_DEPT)
            state.district = names.get(c.district, "").removeprefix(_NS_DISTRICT)
            state.category = names.get(c.category, "").removeprefix(_NS_CATEGORY)
            out[aid] = state
        return out

    async def load(self, appeal_id: str) -> CaseState | None:
        """The stored state of a case, or ``None``."""
        return (await self._read_many([appeal_id]))[appeal_id]

    async def load_many(self, appeal_ids: Sequence[str]) -> dict[str, CaseState]:
        """Stored states of several cases (missing ones left out), one round trip."""
        got = await self._read_many(list(appeal_ids))
        return {aid: s for aid, s in got.items() if s is not None}

    async def department_cases(self, department: str) -> list[str]:
        """Open case ids of a department."""
        code = await self.code_of(_NS_DEPT, department)
        if code is None:
            return []
        async with self.r.pipeline(transaction=False) as p:
            for key in self.dept_keys(code):
                p.hkeys(key)
            rows = await p.execute()
        return sorted(m.decode() for row in rows for m in row)

    async def late_candidates(
        self, district: str | None = None, category: str | None = None, until: int | None = None
    ) -> list[str]:
        """Cases that reached warn80 (all, or of one district or category), and with
        ``until`` (epoch s) every open case with a threshold due by then: the timer marks
        a case late only once its threshold passes, so a question about a later time (or
        a threshold the timer has not claimed yet) needs those too. The caller filters."""
        found: set[str] = set()
        if until is not None:
            found |= {m.decode() for m in await self.r.zrangebyscore(self.due_key, "-inf", until)}
        if district or category:
            ns, name = (_NS_DISTRICT, district) if district else (_NS_CATEGORY, category)
            code = await self.code_of(ns, name or "")
            key = None if code is None else self._late_key(ns[:-1], code)
        else:
            key = self._late_key()
        if key is not None:
            found |= {m.decode() for m in await self.r.smembers(key)}
        return sorted(found)

    # -- writing --------------------------------------------------------------------------

    async def apply_assignment(
        self,
        *,
        appeal_id: str,
        assignment_id: str,
        hop: int,
        department: str,
        assigned_at: datetime,
        policy: str | None = None,
        appeal_type: str | None = None,
        category: str | None = None,
        urgency: str | None = None,
        district: str | None = None,
        tags: Iterable[str] = (),
    ) -> Outcome:
        """Apply one assignment hop (starts the case, or the next department's clocks)."""
        rec = AssignmentIn(
            appeal_id=appeal_id,
            assignment_id=assignment_id,
            hop=hop,
            department=department,
            assigned_at=assigned_at,
            policy=policy,
            appeal_type=appeal_type,
            category=category,
            urgency=urgency,
            district=district,
            tags=tuple(tags),
        )
        return (await self.apply_batch([rec]))[0]

    async def apply_event(self, event: CaseEventLike) -> Outcome:
        """Apply one case event; the outcome says applied, duplicate or rejected (why)."""
        return (await self.apply_batch([event]))[0]

    async def apply_batch(self, records: Sequence[AssignmentIn | CaseEventLike]) -> list[Outcome]:
        """Apply records in order with two round trips (read all, write all).

        Records of one case are applied in their order on the in-memory state and the
        case is written once; a version conflict (another writer) recomputes that case's
        records from the fresh state.
        """
        outcomes: list[Outcome | None] = [None] * len(records)
        todo = []
        for i, rec in enumerate(records):
            # the Lua side frames ids by length byte and newline: refuse what cannot fit
            aid = getattr(rec, "appeal_id", None)
            if not _usable_id(aid):
                outcomes[i] = rejected(Reason.INVALID, f"unusable appeal_id {aid!r}")
            else:
                todo.append(i)
        if todo:

            def apply(orig: dict[str, CaseState | None]) -> _Rewrites:
                cur = dict(orig)
                for i in todo:
                    aid = records[i].appeal_id
                    if aid in orig:  # a retry reads only the cases that conflicted
                        out, new = self.engine.apply_record(cur[aid], records[i])
                        outcomes[i] = out
                        if out.applied:
                            cur[aid] = new
                return [(orig[a], cur[a]) for a in orig if cur[a] is not orig[a]]  # type: ignore[misc]

            ids = list(dict.fromkeys(records[i].appeal_id for i in todo))
            await self._rewrite(ids, apply, "applying")
        return outcomes  # type: ignore[return-value]

    async def _rewrite(
        self,
        ids: Sequence[str],
        compute: Callable[[dict[str, CaseState | None]], _Rewrites],
        doing: str,
    ) -> int:
        """Read cases ``ids``, let ``compute`` turn them into (stored, new) pairs, and write
        those compare-and-set in one call; the cases another writer changed meanwhile are
        read and computed again (up to ``_RETRIES`` rounds). Returns how many were written.

        ``compute`` may be called more than once per case, so it must not count on being
        called once (``apply_batch`` overwrites the outcome of a record it redoes).
        """
        todo = list(ids)
        written = 0
        for _ in range(_RETRIES):
            pairs = compute(await self._read_many(todo))
            if not pairs:
                return written
            results = await self._write_many(pairs)
            if results is None:
                # Redis lost the interned names (restarted without its data): codes are
                # handed out anew, ours are stale. Forget them; read and compute again.
                log.warning(
                    "SLA names under %r are not what this worker interned: Redis lost "
                    "data? Cases it lost are unknown until `hotline sla rebuild`",
                    self.prefix,
                )
                self._forget_names()
                continue
            written += sum(results)
            todo = [new.appeal_id for (_, new), ok in zip(pairs, results, strict=True) if not ok]
            if not todo:
                return written
        raise ConcurrencyError(f"cases kept changing while {doing}: {sorted(todo)}")

    async def _codes_for(self, states: Iterable[CaseState]) -> dict[str, int]:
        wanted = set()
        for st in states:
            wanted.update(
                (
                    _NS_POLICY + st.policy,
                    _NS_DEPT + st.department,
                    _NS_DISTRICT + st.district,
                    _NS_CATEGORY + st.category,
                )
            )
        empty = {_NS_DEPT: 0, _NS_DISTRICT: 0, _NS_CATEGORY: 0}  # no name: code 0
        codes = await self.codes(n for n in wanted if n not in empty)
        codes.update(empty)
        return codes

    @staticmethod
    def _codes_of(st: CaseState, codes: dict[str, int]) -> Codes:
        return Codes(
            codes[_NS_POLICY + st.policy],
            codes[_NS_DEPT + st.department],
            codes[_NS_DISTRICT + st.district],
            codes[_NS_CATEGORY + st.category],
        )

    async def _write_many(self, pairs: _Rewrites) -> list[int] | None:
        """Compare-and-set writes, one Lua call for all; 1 = written, 0 = conflict.

        ``None``, nothing written: a cached code is not Redis's code of its name.
        """
        codes = await self._codes_for(st for pair in pairs for st in pair if st is not None)
        parts = []
        for old, new in pairs:
            times = new.times or self.engine.thresholds(new)
            t, b = pack_state(new, times, self._codes_of(new, codes))
            aid = new.appeal_id.encode()
            old_dept = old.department if old and old.status != CaseStatus.CLOSED else ""
            parts += [
                bytes((len(aid),)),
                aid,
                _CAS.pack(
                    dept_bucket(new.appeal_id, self.buckets),
                    old.version if old else 0,
                    reset_mask(old, new, times, self.engine.fractions),
                    codes[_NS_DEPT + old_dept],
                    1 if new.status == CaseStatus.CLOSED else 0,
                ),
                bytes((len(t),)),
                t,
                bytes((len(b),)),
                b,
            ]
        used = [x for name, code in codes.items() if code for x in (name, str(code))]
        res = await self._apply(
            keys=[self.due_key],
            args=[self.prefix, self.settings.closed_ttl, b"".join(parts), *used],
        )
        if res and int(res[0]) == -1:
            return None
        return [int(x) for x in res]

    # -- alerts ---------------------------------------------------------------------------

    async def claim_due(self, now: int, limit: int | None = None) -> tuple[int, list[SlaAlert]]:
        """Claim every threshold due at ``now`` on up to ``limit`` cases.

        Returns (cases examined, alerts claimed). Each threshold of each clock is claimed
        once, whoever calls (Lua is atomic); claimed alerts stay in flight until
        :meth:`ack`, and :meth:`redeliver` hands them out again after the lease.
        """
        res = await self._claim(
            keys=[self.due_key, self.inflight_key, self.alerts_key],
            args=[self.prefix, int(now), limit or self.settings.scan_batch],
        )
        return int(res[0]), await self._alerts(res[1])

    async def redeliver(
        self, now: int, lease: int | None = None, limit: int | None = None
    ) -> list[SlaAlert]:
        """Alerts claimed over ``lease`` seconds ago and not acknowledged, leased anew."""
        res = await self._redeliver(
            keys=[self.inflight_key, self.alerts_key],
            args=[
                int(now),
                self.settings.alert_lease if lease is None else lease,
                limit or self.settings.scan_batch,
            ],
        )
        return await self._alerts(res)

    async def ack(self, alert_ids: Iterable[str]) -> None:
        """Forget published alerts (remove from in-flight and the payload hash)."""
        ids = list(alert_ids)
        if not ids:
            return
        async with self.r.pipeline(transaction=True) as p:
            p.zrem(self.inflight_key, *ids)
            p.hdel(self.alerts_key, *ids)
            await p.execute()

    async def _alerts(self, joined: bytes) -> list[SlaAlert]:
        rows = [json.loads(p) for p in joined.split(b"\n")] if joined else []
        # as Redis holds them now: a cached name may be stale (see _learn)
        names = await self.names((c for d in rows for c in (d["d"], d["di"], d["ca"])), fresh=True)
        tz = self.engine.wt.tz
        out = []
        for d in rows:
            d["department"] = names[d.pop("d")].removeprefix(_NS_DEPT)
            d["district"] = names[d.pop("di")].removeprefix(_NS_DISTRICT)
            d["category"] = names[d.pop("ca")].removeprefix(_NS_CATEGORY)
            for k in ("threshold_at", "due_at", "raised_at"):
                d[k] = datetime.fromtimestamp(int(d[k]), tz)
            d["provisional"] = self.engine.wt.calendar.is_provisional(d["due_at"].date())
            out.append(SlaAlert(**d))
        return await self._wall_clocks_not_provisional(out)

    async def _wall_clocks_not_provisional(self, alerts: list[SlaAlert]) -> list[SlaAlert]:
        """Only working-time deadlines move when a year is declared: an alert of a
        wall-clock (emergency, outage) deadline in an undeclared year is not provisional.
        The clock's mode is read only for the alerts dated in such a year (few)."""
        dated = [i for i, a in enumerate(alerts) if a.provisional]
        if not dated:
            return alerts
        async with self.r.pipeline(transaction=False) as p:
            for i in dated:
                p.hget(self.case_key(alerts[i].appeal_id), "b")
            bodies = await p.execute()
        for i, b in zip(dated, bodies, strict=True):
            if b is None:  # the case is gone: its clock's mode is unknown, keep the date's
                continue
            flags = B_FMT.unpack_from(b)[1]
            working = _F_CASE_WORKING if alerts[i].clock == "case" else _F_HOP_WORKING
            if not flags & working:
                alerts[i].provisional = False
        return alerts

    # -- bulk state (rebuild, dump) ---------------------------------------------------------

    async def write_states(
        self, states: Iterable[CaseState], late: set[str], chunk: int = 2000
    ) -> int:
        """Store final states directly (rebuild): hashes, due zset, department/late sets.

        Produces exactly what live processing leaves behind for the same states and
        fired bits; assumes the prefix was wiped first.
        """
        states = list(states)
        codes = await self._codes_for(states)
        p = self.r.pipeline(transaction=False)
        for n, st in enumerate(states, 1):
            times = self.engine.thresholds(st)
            c = self._codes_of(st, codes)
            key = self.case_key(st.appeal_id)
            t, b = pack_state(st, times, c)
            p.hset(key, mapping={"t": t, "b": b})
            if st.status == CaseStatus.CLOSED:
                if self.settings.closed_ttl > 0:
                    p.expire(key, self.settings.closed_ttl)
            else:
                nd = next_due(times, st.fired)
                if nd is not None:
                    p.zadd(self.due_key, {st.appeal_id: nd})
                if c.department:
                    bucket = dept_bucket(st.appeal_id, self.buckets)
                    p.hset(f"{self.prefix}o:{c.department}:{bucket}", st.appeal_id, 1)
                if st.appeal_id in late:
                    p.sadd(self._late_key(), st.appeal_id)
                    if c.district:
                        p.sadd(self._late_key("di", c.district), st.appeal_id)
                    if c.category:
                        p.sadd(self._late_key("ca", c.category), st.appeal_id)
            if n % chunk == 0:
                await p.execute()
        await p.execute()
        return len(states)

    async def calendar_changed(self) -> bool:
        """True if the stored deadlines were computed on another working-time axis (or it
        is not known which): :meth:`recompute_deadlines` is due."""
        stored = await self.r.get(self.calendar_key)
        return stored is None or stored.decode() != self.engine.wt.fingerprint

    async def recompute_deadlines(
        self, chunk: int = 500, progress: Callable[[int], object] | None = None
    ) -> Recomputed:
        """Recompute the threshold instants of every case with a pending threshold on this
        store's calendar, then record the calendar's fingerprint.

        What each clock consumed and since when is kept: only where the calendar puts its
        thresholds moves (a year declared after it was counted provisionally, a local day
        off announced). Fired bits are kept, so a warning already raised is not raised
        again; a threshold that moved into the past fires at the next scan. Writes are
        compare-and-set like every other, so live workers may run meanwhile; a worker
        still on the old calendar would write its own instants again, so restart them
        all. ``progress`` is called with the number of cases done after each chunk.
        """
        ids = [m.decode() for m in await self.r.zrange(self.due_key, 0, -1)]
        report = Recomputed(examined=len(ids))
        out_of_range: dict[str, None] = {}  # ordered set: a retry may meet a case again

        def recompute(orig: dict[str, CaseState | None]) -> _Rewrites:
            pairs: _Rewrites = []
            for st in orig.values():
                if st is None or st.status == CaseStatus.CLOSED:
                    continue
                new = st.copy()  # without the stored instants: computed afresh
                try:
                    new.times = self.engine.thresholds(new)
                except CalendarRangeError as e:
                    if st.appeal_id not in out_of_range:
                        out_of_range[st.appeal_id] = None
                        log.warning("SLA: %s keeps its deadlines: %s", st.appeal_id, e)
                    continue
                if new.times != st.times:
                    new.version = st.version + 1
                    pairs.append((st, new))
            return pairs

        for i in range(0, len(ids), chunk):
            report.moved += await self._rewrite(ids[i : i + chunk], recompute, "recomputing")
            if progress is not None:
                progress(min(chunk, len(ids) - i))
        report.out_of_range.extend(out_of_range)
        await self.r.set(self.calendar_key, self.engine.wt.fingerprint)
        return report

    async def keys(self) -> list[bytes]:
        """Every key under the prefix (SCAN; for tests, dumps and wipes)."""
        return [k async for k in self.r.scan_iter(match=under(self.prefix), count=5000)]

    async def wipe(self) -> int:
        """Delete every key under the prefix; returns how many."""
        keys = await self.keys()
        for i in range(0, len(keys), 1000):
            await self.r.unlink(*keys[i : i + 1000])
        self._forget_names()
        return len(keys)

    async def dump(self, include_alerts: bool = False) -> dict[str, Any]:
        """Canonical, comparable snapshot of the SLA state under the prefix.

        Cases are decoded (plus their stored thresholds, fired bits and whether a TTL is
        set); interned codes are replaced by names (codes depend on arrival order);
        index hashes and sets become sorted lists per department / district / category.
        The alert queue (in flight, payloads) is left out unless asked: it is publishing
        bookkeeping rather than clock state.
        """
        out: dict[str, Any] = {"cases": {}, "due": {}, "departments": {}, "late": {}}
        plen = len(self.prefix)
        all_keys = sorted(k.decode() for k in await self.keys())
        case_ids = [k[plen + 2 :] for k in all_keys if k[plen:].startswith("c:")]
        states = await self._read_many(case_ids)
        for aid in case_ids:
            st = states[aid]
            if st is None:
                continue
            raw = await self.r.hget(self.case_key(aid), "t")
            times = T_FMT.unpack(raw)[8:]
            ttl = await self.r.ttl(self.case_key(aid))
            out["cases"][aid] = {"state": _plain(st), "times": list(times), "expires": ttl > 0}
        for key in all_keys:
            rest = key[plen:]
            if rest == "due":
                rows = await self.r.zrange(key, 0, -1, withscores=True)
                out["due"] = {m.decode(): int(s) for m, s in rows}
            elif rest.startswith("o:"):
                code = int(rest[2:].rsplit(":", 1)[0])
                dept = (await self.names([code]))[code].removeprefix(_NS_DEPT)
                members = out["departments"].setdefault(dept, [])
                members.extend(m.decode() for m in await self.r.hkeys(key))
                members.sort()
            elif rest == "L" or rest.startswith("L:"):
                parts = rest.split(":")
                label = "all"
                if len(parts) == 3:
                    label = (await self.names([int(parts[2])]))[int(parts[2])]
                out["late"][label] = sorted(m.decode() for m in await self.r.smembers(key))
            elif include_alerts and rest == "inflight":
                rows = await self.r.zrange(key, 0, -1, withscores=True)
                out["inflight"] = {m.decode(): int(s) for m, s in rows}
            elif include_alerts and rest == "alerts":
                out["alerts"] = {
                    k.decode(): v.decode() for k, v in (await self.r.hgetall(key)).items()
                }
        return out


def _plain(state: CaseState) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for name in state.__slots__:  # type: ignore[attr-defined]
        v = getattr(state, name)
        if isinstance(v, Clock):
            v = {"mode": v.mode.value, "limit": v.limit, "used": v.used, "since": v.since}
        elif name == "times":
            continue  # a cache, not state
        elif isinstance(v, tuple):
            v = list(v)
        elif hasattr(v, "value"):
            v = v.value
        d[name] = v
    return d
