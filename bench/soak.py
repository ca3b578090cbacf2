"""`make soak`: volunteers registering over HTTP against several workers, with faults, then proof.

    python -m bench.soak --duration 180 --volunteers 50 --workers 2

The app runs as `python -m ops.serve` (WORKERS worker processes) on a dedicated embedded PostgreSQL
under --data-dir. Simulated volunteers register stalls over keep-alive connections; about 20% of the
requests are retries with the same Idempotency-Key (some after a short client timeout abandoned the
request mid-flight), some registrations race for the same stall code. In the middle of the load the
database is stopped (pg_ctl stop -m fast) and started again. Then a burst of signed partner
notifications with duplicates and forgeries. Before the load, the guarantees that must hold across
worker processes are shown on connections pinned to each worker (sign-in lock, idempotency, token
revocation, optimistic concurrency, new data).

Afterwards every guarantee is checked against the database; the summary names each check, and the
exit status is 1 if any failed. Bounded in time: the load stops after --duration seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness
from bench.loadgen import Connection, HttpError, Reply, percentile
from core import db
from core.crypto import Keys, secret_key
from core.settings import get_settings
from coverage import counters

HOST = "127.0.0.1"
NORMAL_TIMEOUT = 20.0
LOCK_PASSWORD = "soak-lock-password-2026"
BIN = "970422"  # MB Bank: the partner the notification burst signs for
PARTNER = "MB"


# ---------------------------------------------------------------- bookkeeping


@dataclass
class Attempt:
    """A registration as the volunteer's device sees it: one Idempotency-Key until answered."""

    key: str
    user: str
    market_id: int
    code: str
    phone: str
    account: str
    body: bytes
    racing: bool
    sends: int = 0
    abandoned: int = 0
    statuses: list[int] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)
    outcome: str = "pending"  # created | taken | rejected | unresolved


@dataclass
class Check:
    name: str
    ok: bool | None  # None: skipped
    detail: str = ""


@dataclass
class Timeline:
    db_stopped_at: float | None = None
    db_started_at: float | None = None
    healthy_again_at: float | None = None


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.retries: Counter[str] = Counter()  # by reason
        self.abandoned = 0
        self.connection_errors = 0
        self.statuses: Counter[int] = Counter()
        # (sent at, replied at, status, problem code, path)
        self.server_errors: list[tuple[float, float, int, str, str]] = []
        self.latencies_ms: list[float] = []
        self.replays_checked = 0


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.stats = Stats()
        self.attempts: list[Attempt] = []
        self.timeline = Timeline()
        self.checks: list[Check] = []
        self.notes: list[str] = []
        self.figures: dict[str, Any] = {}
        self.counter = 0
        self.t0 = time.monotonic()
        self.stop_load = asyncio.Event()
        self.pg: harness.EmbeddedPostgres | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    def check(self, name: str, ok: bool | None, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return bool(ok)

    # ------------------------------------------------------------ setup

    async def setup(self) -> None:
        args = self.args
        data_dir: Path = args.data_dir.resolve()
        external = os.environ.get("SOAK_DATABASE_URL")
        if external:
            server_url = external
            self.notes.append(
                "SOAK_DATABASE_URL is set: the database restart is skipped (not our server)."
            )
        else:
            self.pg = harness.EmbeddedPostgres(data_dir)
            server_url = self.pg.url
        self.server_url = server_url
        self.db_name = f"choso_soak_{os.getpid()}"
        self.url = await harness.migrated_template(server_url, self.db_name)
        self.seed = await harness.seed(
            self.url,
            markets=args.markets,
            volunteers=args.volunteers,
            extra_users={"soaklock": ("volunteer", LOCK_PASSWORD), "soakcache": ("admin", "")},
        )
        self.port = args.port or harness.free_port()
        env = harness.app_env(
            database_url=self.url,
            data_dir=data_dir / "app",
            port=self.port,
            workers=args.workers,
            extra={"LOG_LEVEL": "WARNING"},
        )
        self.app = harness.ServerProcess(
            "app",
            [harness.PYTHON, "-m", "ops.serve"],
            env,
            self.port,
            data_dir / "logs" / "soak-app.log",
        )
        self.app.start()
        await self.app.wait_ready()
        self.master_pid = self.app.pid
        self.worker_pids = await self._wait_workers()
        self.figures["worker_pids"] = self.worker_pids

    async def _wait_workers(self) -> list[int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = (
                [p for p in self.app.worker_pids() if p != self.app.pid]
                if self.args.workers > 1
                else [self.app.pid]
            )
            if len(pids) >= self.args.workers:
                return sorted(pids)
            await asyncio.sleep(0.3)
        return sorted(self.app.worker_pids())

    async def pinned(self, want: int | None = None, tries: int = 60) -> dict[int, Connection]:
        """A keep-alive connection held by each worker (the OS tells which process holds it)."""
        found: dict[int, Connection] = {}
        want = want or len(self.worker_pids)
        for _ in range(tries):
            conn = Connection(HOST, self.port, timeout=10)
            try:
                await conn.request("GET", "/healthz")
            except (HttpError, TimeoutError):
                conn.close()
                continue
            port = conn.local_port
            owner = await asyncio.to_thread(self.app.owner_of, port) if port else None
            if owner is not None and owner not in found:
                found[owner] = conn
                if len(found) >= want:
                    break
            else:
                conn.close()
        return found

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seed.tokens[user]}"}

    # ------------------------------------------------------------ registrations

    def new_attempt(self, user: str, *, may_race: bool = True) -> Attempt:
        self.counter += 1
        n = self.counter
        racing = may_race and self.rng.random() < self.args.race_share
        if racing:
            window = int(self.now() / 0.5)
            market_id = self.seed.market_ids[window % len(self.seed.market_ids)]
            code = f"R-{window}-{self.rng.randint(1, 2)}"
        else:
            market_id = self.rng.choice(self.seed.market_ids)
            code = f"S-{n}"
        phone = f"093{n % 10_000_000:07d}"  # unique per attempt: finds it in the database later
        account = f"8{n:09d}"
        body = {
            "stall_code": code,
            "zone": self.rng.choice(["A", "B", "C"]),
            "goods": self.rng.choice(["Rau củ", "Cá tươi", "Trái cây", "Tạp hóa"]),
            "holder": {"full_name": "Nguyễn Thị Hoa", "phone": phone},
            "payment_accounts": [
                {
                    "bin": BIN,
                    "account_number": account,
                    "account_name": "NGUYEN THI HOA",
                    "partner_code": PARTNER,
                }
            ],
            "consent": {
                "notice_version": "2026-01",
                "purposes": ["registration", "qr_sign", "coverage_reporting"],
            },
            "location": {"lat": 16.068, "lon": 108.224, "accuracy_m": 10},
        }
        attempt = Attempt(
            key=uuid.uuid4().hex,
            user=user,
            market_id=market_id,
            code=code,
            phone="+84" + phone[1:],
            account=account,
            body=json.dumps(body, ensure_ascii=False).encode(),
            racing=racing,
        )
        self.attempts.append(attempt)
        return attempt

    def in_outage(self, sent_at: float, replied_at: float) -> bool:
        """Whether a request was in flight between the database stop and healthy again (+2 s)."""
        tl = self.timeline
        if tl.db_stopped_at is None:
            return False
        end = tl.healthy_again_at if tl.healthy_again_at is not None else float("inf")
        return replied_at >= tl.db_stopped_at and sent_at <= end + 2.0

    def record(self, reply: Reply, path: str, sent_at: float) -> None:
        self.stats.statuses[reply.status] += 1
        if reply.status >= 500:
            self.stats.server_errors.append(
                (round(sent_at, 2), round(self.now(), 2), reply.status, _code(reply), path)
            )

    async def send(
        self, conn: Connection, attempt: Attempt, *, timeout_s: float, retry: str | None
    ) -> Reply | None:
        headers = self.auth(attempt.user) | {
            "Content-Type": "application/json",
            "Idempotency-Key": attempt.key,
        }
        path = f"/api/markets/{attempt.market_id}/stalls"
        self.stats.requests += 1
        if retry:
            self.stats.retries[retry] += 1
        attempt.sends += 1
        sent_at = self.now()
        began = time.perf_counter()
        try:
            reply = await conn.request(
                "POST", path, headers=headers, body=attempt.body, timeout_s=timeout_s
            )
        except TimeoutError:
            attempt.abandoned += 1
            self.stats.abandoned += 1
            return None
        except HttpError:
            self.stats.connection_errors += 1
            return None
        self.stats.latencies_ms.append((time.perf_counter() - began) * 1000)
        self.record(reply, path, sent_at)
        attempt.statuses.append(reply.status)
        return reply

    async def settle(
        self, conn: Connection, attempt: Attempt, deadline: float, *, first_retry: bool
    ) -> None:
        """Send until a definitive answer, like the tablet app does (same key every time)."""
        retry: str | None = "replay" if first_retry else None
        while True:
            short = retry is None and self.rng.random() < self.args.timeout_share
            timeout_s = self.rng.uniform(0.003, 0.08) if short else NORMAL_TIMEOUT
            reply = await self.send(conn, attempt, timeout_s=timeout_s, retry=retry)
            if reply is None:
                retry = "after_client_timeout" if short else "after_connection_error"
            else:
                retry = "after_503" if reply.status >= 500 or reply.status == 429 else "other"
                if reply.status == 201:
                    attempt.ids.add(int(reply.json()["id"]))
                    attempt.outcome = "created"
                    return
                if reply.status == 409 and _code(reply) == "stall_code_taken":
                    if attempt.outcome != "created":
                        attempt.outcome = "taken"
                    return
                if reply.status not in (503, 429) and reply.status < 500:
                    attempt.outcome = f"rejected:{reply.status}:{_code(reply)}"
                    return
            if time.monotonic() > deadline:
                attempt.outcome = "unresolved" if attempt.outcome == "pending" else attempt.outcome
                return
            await asyncio.sleep(
                self.rng.uniform(0.05, 0.3) if reply is None or reply.status >= 500 else 0.01
            )

    async def volunteer(self, user: str) -> None:
        conn = Connection(HOST, self.port, timeout=NORMAL_TIMEOUT)
        hard_deadline = time.monotonic() + self.args.duration + 60
        try:
            while not self.stop_load.is_set():
                attempt = self.new_attempt(user)
                await self.settle(conn, attempt, hard_deadline, first_retry=False)
                if attempt.outcome == "created" and self.rng.random() < self.args.replay_share:
                    # The reply was lost on the way back: the device sends the same request again.
                    before = set(attempt.ids)
                    await self.settle(conn, attempt, hard_deadline, first_retry=True)
                    self.stats.replays_checked += 1
                    if attempt.ids != before:
                        attempt.outcome = (
                            "created"  # ids now holds two values: reported as a violation
                        )
                await asyncio.sleep(self.rng.uniform(0, self.args.think_ms / 1000))
        finally:
            conn.close()

    # ------------------------------------------------------------ database restart

    async def restart_database(self) -> None:
        assert self.pg is not None
        await asyncio.sleep(self.args.duration / 2)
        pinned = await self.pinned()
        self.figures["restart_workers_pinned"] = len(pinned)
        self.timeline.db_stopped_at = self.now()
        await asyncio.to_thread(self.pg.stop)
        down_replies: Counter[str] = Counter()
        until = time.monotonic() + self.args.outage
        while time.monotonic() < until:
            for pid, conn in list(pinned.items()):
                try:
                    reply = await conn.request("GET", "/healthz", timeout_s=5)
                    down_replies[f"{reply.status}"] += 1
                except (HttpError, TimeoutError):
                    down_replies["no_reply"] += 1
                    pinned[pid] = Connection(HOST, self.port, timeout=10)
            await asyncio.sleep(0.25)
        self.timeline.db_started_at = self.now()
        await asyncio.to_thread(self.pg.start)
        recovered: dict[int, float] = {}
        give_up = time.monotonic() + 60
        while len(recovered) < len(pinned) and time.monotonic() < give_up:
            for pid, conn in pinned.items():
                if pid in recovered:
                    continue
                try:
                    if (await conn.request("GET", "/healthz", timeout_s=5)).status == 200:
                        recovered[pid] = self.now()
                except (HttpError, TimeoutError):
                    pass
            await asyncio.sleep(0.1)
        self.timeline.healthy_again_at = max(recovered.values()) if recovered else None
        for conn in pinned.values():
            conn.close()
        self.figures["healthz_while_down"] = dict(down_replies)
        self.figures["timeline_s"] = {
            "db_stopped": round(self.timeline.db_stopped_at, 2),
            "db_started": round(self.timeline.db_started_at, 2),
            "healthy_again": round(self.timeline.healthy_again_at, 2)
            if self.timeline.healthy_again_at is not None
            else None,
        }
        self.figures["db_down_seconds"] = round(
            self.timeline.db_started_at - self.timeline.db_stopped_at, 2
        )
        if self.timeline.healthy_again_at is not None:
            self.figures["healthy_after_start_seconds"] = round(
                self.timeline.healthy_again_at - self.timeline.db_started_at, 2
            )
        only_503 = bool(down_replies) and set(down_replies) == {"503"}
        self.check(
            "/healthz is 503 on every worker while the database is down",
            only_503 and len(pinned) == len(self.worker_pids),
            f"replies while down: {dict(down_replies)} from {len(pinned)} pinned worker(s)",
        )
        self.check(
            "/healthz is 200 again on every worker after the database is back",
            len(recovered) == len(pinned) and bool(pinned),
            f"{len(recovered)}/{len(pinned)} workers healthy "
            f"{self.figures.get('healthy_after_start_seconds', '?')} s after the start",
        )

    # ------------------------------------------------------------ cross-worker guarantees

    async def across_workers(self) -> None:
        pinned = await self.pinned()
        pids = sorted(pinned)
        self.figures["workers_seen"] = len(pids)
        if self.args.workers > 1 and not self.check(
            f"connections reach {self.args.workers} different worker processes",
            len(pids) >= 2,
            f"worker pids {pids}",
        ):
            return
        a, b = pinned[pids[0]], pinned[pids[-1]]
        admin = self.auth("benchadmin")

        # Idempotency: the same key on worker A, then on worker B, then on all at once.
        attempt = self.new_attempt("vol000", may_race=False)
        path = f"/api/markets/{attempt.market_id}/stalls"
        headers = self.auth("vol000") | {
            "Content-Type": "application/json",
            "Idempotency-Key": attempt.key,
        }
        first = await a.request("POST", path, headers=headers, body=attempt.body)
        second = await b.request("POST", path, headers=headers, body=attempt.body)
        fresh = self.new_attempt("vol000", may_race=False)
        fresh_headers = headers | {"Idempotency-Key": fresh.key}
        together = await asyncio.gather(
            *(
                c.request(
                    "POST",
                    f"/api/markets/{fresh.market_id}/stalls",
                    headers=fresh_headers,
                    body=fresh.body,
                )
                for c in pinned.values()
            )
        )
        for reply, att in ((first, attempt), (second, attempt), *((r, fresh) for r in together)):
            att.sends += 1
            att.statuses.append(reply.status)
            if reply.status == 201:
                att.ids.add(int(reply.json()["id"]))
                att.outcome = "created"
        self.check(
            "idempotency holds across workers (same key on two workers -> one stall)",
            first.status == second.status == 201
            and len(attempt.ids) == 1
            and second.headers.get("idempotent-replayed") == "true"
            and {r.status for r in together} == {201}
            and len(fresh.ids) == 1,
            f"A: {first.status}, B: {second.status} "
            f"replayed={second.headers.get('idempotent-replayed')}; concurrent on {len(together)} "
            f"workers: {sorted(r.status for r in together)}, ids {sorted(fresh.ids)}",
        )

        # Optimistic concurrency: version 1 edited on A, the same stale version on B is refused.
        stall_id = next(iter(attempt.ids), None)
        if stall_id is not None:
            patch = {"Content-Type": "application/json", "If-Match": '"1"'} | self.auth("vol000")
            p1 = await a.request(
                "PATCH", f"/api/stalls/{stall_id}", headers=patch, json={"goods": "Hoa tươi"}
            )
            p2 = await b.request(
                "PATCH", f"/api/stalls/{stall_id}", headers=patch, json={"goods": "Bánh kẹo"}
            )
            self.check(
                "If-Match versions hold across workers (stale edit on the other worker -> 412)",
                p1.status == 200 and p2.status == 412,
                f"A: {p1.status}, B: {p2.status}",
            )

        # Token revocation: signed out on A, refused on B (no per-process token cache).
        cache = self.auth("soakcache")
        before = [await c.request("GET", "/api/users/me", headers=cache) for c in (a, b)]
        out = await a.request("POST", "/api/auth/logout", headers=cache)
        after = await b.request("GET", "/api/users/me", headers=cache)
        self.check(
            "a token revoked on one worker is refused by the others",
            [r.status for r in before] == [200, 200] and out.status == 204 and after.status == 401,
            f"before {[r.status for r in before]}, logout {out.status}, "
            f"after on the other worker {after.status}",
        )

        # New data written through A is read through B.
        created = await a.request(
            "POST",
            "/api/markets",
            headers=admin | {"Content-Type": "application/json"},
            json={"name": f"Chợ Mới {uuid.uuid4().hex[:6]}", "ward_code": "20242"},
        )
        seen = (
            await b.request("GET", f"/api/markets/{created.json().get('id', 0)}", headers=admin)
            if created.status == 201
            else None
        )
        self.check(
            "a market created on one worker is served by the others",
            created.status == 201 and seen is not None and seen.status == 200,
            f"create {created.status}, read on the other worker {seen.status if seen else '-'}",
        )

        # Sign-in lock: failures spread over workers add up, then every worker refuses even the
        # right password.
        served: Counter[int] = Counter()
        statuses: list[int] = []
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        # Five wrong passwords, then the right one until every worker has answered at least once
        # (which worker accepts a new connection is the kernel's choice): at least 12 attempts.
        for i in range(40):
            if i >= 12 and len(served) >= min(2, self.args.workers):
                break
            conn = Connection(HOST, self.port, timeout=15)
            try:
                password = "wrong-password-xx" if i < 5 else LOCK_PASSWORD
                reply = await conn.request(
                    "POST",
                    "/api/auth/token",
                    headers=form,
                    body=f"username=soaklock&password={password}".encode(),
                )
                owner = await asyncio.to_thread(self.app.owner_of, conn.local_port or 0)
                served[owner or 0] += 1
                statuses.append(reply.status)
            finally:
                conn.close()
        locked_everywhere = all(s == 429 for s in statuses[5:])
        self.check(
            "the sign-in lock holds across workers (kept in PostgreSQL)",
            statuses[:4] == [401] * 4
            and statuses[4] in (401, 429)
            and locked_everywhere
            and len(served) >= min(2, self.args.workers),
            f"statuses {statuses}; attempts per worker {dict(served)}",
        )
        for conn in pinned.values():
            conn.close()

    # ------------------------------------------------------------ partner notifications

    async def partner_burst(self) -> None:
        schema = await self._get_json("/openapi.json")
        if "/api/partners/{code}/events" not in (schema or {}).get("paths", {}):
            self.check(
                "partner notification burst",
                None,
                "POST /api/partners/{code}/events does not exist yet",
            )
            return
        pinned = await self.pinned()
        conns = list(pinned.values())
        admin = self.auth("benchadmin") | {"Content-Type": "application/json"}
        secret = "soak-" + uuid.uuid4().hex
        put = await conns[0].request(
            "PUT",
            f"/api/partners/{PARTNER}/credentials",
            headers=admin,
            json={"signing_secret": secret},
        )
        seen = await conns[-1].request("GET", f"/api/partners/{PARTNER}", headers=admin)
        if not self.check(
            "partner credentials set on one worker are used by the others",
            put.status == 200
            and seen.status == 200
            and "signing_secret" in seen.json().get("credentials_set", []),
            f"PUT {put.status}, GET on the other worker {seen.status}",
        ):
            return
        accounts = [a.account for a in self.attempts if a.outcome == "created" and len(a.ids) == 1]
        if not accounts:
            self.check("partner notification burst", False, "no registered account to pay")
            return
        before = await self._table_counts()
        genuine: dict[str, bytes] = {}
        amounts: dict[str, int] = {}
        sends: list[tuple[str, bytes, str]] = []  # (kind, body, header)
        now = int(time.time())
        for _ in range(self.args.events):
            event_id = "soak-" + uuid.uuid4().hex
            amount = self.rng.randint(1, 500) * 1000
            body = _payment_event(event_id, self.rng.choice(accounts), amount)
            genuine[event_id], amounts[event_id] = body, amount
            sends.append(("genuine", body, _sign(secret, now, body)))
        duplicates = round(len(genuine) * 0.3 / 0.7)
        for event_id in self.rng.choices(list(genuine), k=duplicates):
            sends.append(
                (
                    "duplicate",
                    genuine[event_id],
                    _sign(secret, now + self.rng.randint(0, 5), genuine[event_id]),
                )
            )
        forged_ids: set[str] = set()
        for i in range(self.args.forged):
            kind = i % 4
            if kind == 0:  # a new event signed with a guessed secret
                event_id = "forged-" + uuid.uuid4().hex
                forged_ids.add(event_id)
                body = _payment_event(event_id, accounts[0], 9_999_000)
                sends.append(("forged", body, _sign("guessed-" + secret, now, body)))
            elif kind == 1:  # a genuine event with its amount changed after signing
                event_id = self.rng.choice(list(genuine))
                body = genuine[event_id].replace(
                    f'"amount": {amounts[event_id]}'.encode(), b'"amount": 1000000000'
                )
                sends.append(("forged", body, _sign(secret, now, genuine[event_id])))
            elif kind == 2:  # a correctly signed event replayed from long ago
                event_id = "stale-" + uuid.uuid4().hex
                forged_ids.add(event_id)
                body = _payment_event(event_id, accounts[0], 5000)
                sends.append(("forged", body, _sign(secret, now - 3600, body)))
            else:  # no signature at all
                event_id = "unsigned-" + uuid.uuid4().hex
                forged_ids.add(event_id)
                body = _payment_event(event_id, accounts[0], 5000)
                sends.append(("forged", body, ""))
        self.rng.shuffle(sends)
        queue: asyncio.Queue[tuple[str, bytes, str]] = asyncio.Queue()
        for item in sends:
            queue.put_nowait(item)
        results: list[tuple[str, bytes, int, dict[str, Any]]] = []

        async def sender(conn: Connection) -> None:
            while not queue.empty():
                kind, body, signature = queue.get_nowait()
                headers = {"Content-Type": "application/json"} | (
                    {"X-Signature": signature} if signature else {}
                )
                for _ in range(5):
                    try:
                        reply = await conn.request(
                            "POST", f"/api/partners/{PARTNER}/events", headers=headers, body=body
                        )
                        break
                    except (HttpError, TimeoutError):
                        continue
                else:
                    results.append((kind, body, 0, {}))
                    continue
                try:
                    parsed = reply.json()
                except ValueError:
                    parsed = {}
                results.append((kind, body, reply.status, parsed))

        senders = [Connection(HOST, self.port, timeout=20) for _ in range(8)]
        await asyncio.gather(*(sender(c) for c in senders))
        for c in senders + conns:
            c.close()
        applied = Counter(
            json.loads(b)["id"]
            for k, b, s, p in results
            if s == 202 and p.get("status") == "applied"
        )
        by_kind: dict[str, Counter[int]] = {}
        for sort, _, status, _ in results:
            by_kind.setdefault(sort, Counter())[status] += 1
        self.figures["burst"] = {
            "genuine": len(genuine),
            "duplicates": duplicates,
            "forged": self.args.forged,
            "statuses": {k: dict(v) for k, v in by_kind.items()},
        }
        self.check(
            "every genuine notification applied exactly once (duplicates acknowledged only)",
            set(applied) == set(genuine)
            and all(n == 1 for n in applied.values())
            and all(s == 202 for k, _, s, _ in results if k in ("genuine", "duplicate")),
            f"applied {len(applied)} of {len(genuine)} ids; "
            f"statuses {self.figures['burst']['statuses']}",
        )
        self.check(
            "every forged notification rejected (401), none a 5xx",
            all(400 <= s < 500 for k, _, s, _ in results if k == "forged")
            and not any(s >= 500 or s == 0 for _, _, s, _ in results),
            f"forged statuses {dict(by_kind.get('forged', Counter()))}",
        )
        conn = await asyncpg.connect(self.url)
        try:
            stored = await conn.fetch(
                "SELECT external_id, amount FROM payment_event "
                "WHERE partner_code = $1 AND external_id = any($2)",
                PARTNER,
                list(genuine) + list(forged_ids),
            )
            events = await conn.fetchval(
                "SELECT count(*) FROM partner_event "
                "WHERE partner_code = $1 AND external_id = any($2)",
                PARTNER,
                list(genuine) + list(forged_ids),
            )
        finally:
            await conn.close()
        stored_amounts = {r["external_id"]: r["amount"] for r in stored}
        self.check(
            "the database holds each genuine payment once, with its signed amount, no forged one",
            stored_amounts == amounts and events == len(genuine),
            f"{len(stored_amounts)} payments, {events} events stored "
            f"for {len(genuine)} genuine ids",
        )
        after = await self._table_counts()
        changed = {
            t: after.get(t, 0) - before.get(t, 0)
            for t in set(before) | set(after)
            if after.get(t, 0) != before.get(t, 0)
        }
        expected = {"partner_event", "payment_event", "audit_log", "access_log"}
        unexpected = {
            t: d
            for t, d in changed.items()
            if t not in expected
            and "coverage" not in t
            and "status" not in t
            and "snapshot" not in t
        }
        self.check(
            "nothing else changed (row counts of every other table)",
            not unexpected,
            f"changed: {changed}" + (f"; unexpected: {unexpected}" if unexpected else ""),
        )

    async def _table_counts(self) -> dict[str, int]:
        conn = await asyncpg.connect(self.url)
        try:
            tables = [
                r["relname"]
                for r in await conn.fetch(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE schemaname = 'public' ORDER BY relname"
                )
            ]
            return {t: int(await conn.fetchval(f'SELECT count(*) FROM "{t}"')) for t in tables}
        finally:
            await conn.close()

    async def _get_json(self, path: str, headers: dict[str, str] | None = None) -> Any:
        conn = Connection(HOST, self.port, timeout=20)
        try:
            reply = await conn.request("GET", path, headers=headers)
            return reply.json() if reply.status == 200 else None
        except (HttpError, TimeoutError, ValueError):
            return None
        finally:
            conn.close()

    # ------------------------------------------------------------ verification

    async def verify(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                """SELECT s.id, s.market_id, s.code_key, h.phone_e164, k.key, k.user_id
                   FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
                   LEFT JOIN idempotency_key k ON k.resource_id = s.id
                   WHERE s.market_id = any($1)""",
                self.seed.market_ids,
            )
            audits = dict(
                await conn.fetch(
                    "SELECT entity_id::bigint, count(*) FROM audit_log "
                    "WHERE entity = 'stall' AND action = 'register' "
                    "GROUP BY entity_id"
                )
            )
        finally:
            await conn.close()
        by_phone: dict[str, list[int]] = {}
        by_key: dict[str, list[int]] = {}
        for r in rows:
            by_phone.setdefault(r["phone_e164"], []).append(r["id"])
            if r["key"] is not None:
                by_key.setdefault(r["key"], []).append(r["id"])
        acked = [a for a in self.attempts if a.ids]
        lost: list[str] = []
        doubled: list[str] = []
        wrong: list[str] = []
        for a in acked:
            in_db = by_phone.get(a.phone, [])
            if len(a.ids) != 1:
                doubled.append(a.key)
            elif in_db != list(a.ids):
                (lost if not in_db else wrong).append(a.key)
            elif by_key.get(a.key) != list(a.ids):
                wrong.append(a.key)
        self.check(
            "every acknowledged registration exists exactly once (same id on every reply)",
            bool(acked) and not lost and not doubled and not wrong,
            f"{len(acked)} acknowledged; lost {len(lost)}, answered with two ids {len(doubled)}, "
            f"mismatched {len(wrong)}",
        )
        unacked = [a for a in self.attempts if not a.ids]
        twice = [a.key for a in unacked if len(by_phone.get(a.phone, [])) > 1]
        ghosts = [a.key for a in unacked if a.outcome == "taken" and by_phone.get(a.phone)]
        self.check(
            "no unacknowledged registration exists twice (and no race loser exists at all)",
            not twice and not ghosts,
            f"{len(unacked)} unacknowledged ({dict(Counter(a.outcome for a in unacked))}); "
            f"twice {len(twice)}, "
            f"losers stored {len(ghosts)}",
        )
        ours = {a.phone for a in self.attempts}
        strays = [r["id"] for r in rows if r["phone_e164"] not in ours]
        multi_key = [k for k, ids in by_key.items() if len(ids) > 1]
        unaudited = [r["id"] for r in rows if audits.get(r["id"]) != 1]
        created_total = len({i for a in self.attempts for i in a.ids})
        unresolved = [a for a in self.attempts if a.outcome == "unresolved"]
        self.check(
            "the database holds exactly the stalls the clients were told about, each audited once",
            not strays
            and not multi_key
            and not unaudited
            and len(rows) == created_total
            and not unresolved,
            f"{len(rows)} stalls in the soak markets, {created_total} acknowledged ids, "
            f"{len(unresolved)} still unanswered at the end, unaudited {len(unaudited)}",
        )
        races = [a for a in self.attempts if a.racing]
        race_codes = Counter((a.market_id, a.code) for a in races)
        contested = sum(1 for n in race_codes.values() if n > 1)
        self.figures["racing_attempts"] = len(races)
        self.figures["contested_codes"] = contested
        self.check(
            "racing registrations for one code: one stall, the others 409 stall_code_taken",
            contested > 0
            and all(
                sum(1 for a in races if (a.market_id, a.code) == k and a.ids) <= 1
                for k in race_codes
            ),
            f"{len(races)} racing attempts on {len(race_codes)} codes ({contested} contested)",
        )
        rejected = Counter(a.outcome for a in self.attempts if a.outcome.startswith("rejected"))
        self.check(
            "no registration was rejected for another reason", not rejected, str(dict(rejected))
        )

        errors = self.stats.server_errors
        outside = [e for e in errors if not (e[2] == 503 and self.in_outage(e[0], e[1]))]
        inside = [e for e in errors if e not in outside]
        self.check(
            "no 5xx returned (503 `unavailable` only while the database was down)",
            not outside and all(e[3] == "unavailable" for e in inside),
            f"{len(inside)} x 503 in flight during the outage; "
            f"others (sent, replied, status, code, path): {outside[:5]}",
        )
        await self.coverage_recount()

    async def coverage_recount(self) -> None:
        conn = await db.connect(self.url, keys=Keys(secret_key(get_settings())))
        try:
            result = await counters.recount(
                conn, window_days=get_settings().transacting_window_days
            )
        finally:
            await conn.close()
        mismatches = list(getattr(result, "mismatches", []) or [])
        ok = getattr(result, "ok", not mismatches)
        self.check(
            "coverage counters equal a full recount",
            bool(ok),
            "; ".join(mismatches[:5]) or "all equal",
        )

    async def metrics_across_workers(self) -> None:
        text = await self._get_text("/metrics")
        if text is None:
            self.check("/metrics sums every worker", None, "/metrics is not mounted in main.py yet")
            return
        from prometheus_client.parser import text_string_to_metric_families

        served = 0.0
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if (
                    s.name == "choso_http_requests_total"
                    and s.labels.get("method") == "POST"
                    and s.labels.get("route") == "/api/markets/{market_id}/stalls"
                ):
                    served += s.value
        answered = sum(len(a.statuses) for a in self.attempts)
        sent = sum(a.sends for a in self.attempts)
        self.figures["metrics_registration_requests"] = int(served)
        # Abandoned requests still finish on the server; refused connections never reach it.
        self.check(
            "/metrics sums every worker (answered <= registration requests counted <= sent)",
            answered <= served <= sent,
            f"clients got {answered} replies of {sent} sends; /metrics counted {int(served)}",
        )

    async def _get_text(self, path: str) -> str | None:
        conn = Connection(HOST, self.port, timeout=20)
        try:
            reply = await conn.request("GET", path)
            return reply.body.decode() if reply.status == 200 else None
        except (HttpError, TimeoutError):
            return None
        finally:
            conn.close()

    # ------------------------------------------------------------ run

    async def run(self) -> int:
        args = self.args
        try:
            await self.setup()
            await self.across_workers()
            pids_before = set(self.app.worker_pids())
            load_started = self.now()
            volunteers = [
                asyncio.create_task(self.volunteer(f"vol{i:03d}")) for i in range(args.volunteers)
            ]
            restart = None
            if args.restart and self.pg is not None:
                restart = asyncio.create_task(self.restart_database())
            elif not args.restart:
                self.notes.append("database restart disabled (--no-restart)")
            await asyncio.sleep(args.duration)
            self.stop_load.set()
            if restart is not None:
                await restart
            await asyncio.gather(*volunteers)
            self.figures["load_seconds"] = round(self.now() - load_started, 1)
            pids_after = set(self.app.worker_pids())
            if restart is not None:
                self.check(
                    "the app recovered without restarting (same server and worker processes)",
                    self.app.alive() and pids_before == pids_after,
                    f"workers before {sorted(pids_before)}, after {sorted(pids_after)}",
                )
            await self.verify()
            if args.burst:
                await self.partner_burst()
                await self.coverage_recount()
            await self.metrics_across_workers()
        finally:
            if hasattr(self, "app"):
                self.app.stop()
            if self.pg is not None and hasattr(self, "db_name"):
                try:
                    await harness.drop_database(self.server_url, self.db_name)
                except Exception as exc:  # noqa: BLE001
                    self.notes.append(f"could not drop {self.db_name}: {exc}")
            if self.pg is not None and args.stop_db:
                self.pg.shutdown()
        return self.report()

    def report(self) -> int:
        s = self.stats
        failed = [c for c in self.checks if c.ok is False]
        lat = s.latencies_ms
        summary = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "workers": self.args.workers,
            "volunteers": self.args.volunteers,
            "duration_s": self.args.duration,
            "registrations_attempted": len(self.attempts),
            "requests": s.requests,
            # Retries the clients chose (after a short timeout, or a lost reply), and all of them
            # (those after a 503 or a refused connection while the database was down included).
            "retry_share": round(
                (s.retries["after_client_timeout"] + s.retries["replay"]) / s.requests, 3
            )
            if s.requests
            else 0,
            "retry_share_with_outage": round(s.retries.total() / s.requests, 3)
            if s.requests
            else 0,
            "retries_by_reason": dict(s.retries),
            "abandoned_by_client_timeout": s.abandoned,
            "connection_errors": s.connection_errors,
            "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
            "throughput_rps": round(s.requests / self.args.duration, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            **self.figures,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "notes": self.notes,
            "passed": not failed,
        }
        width = 78
        print("=" * width)
        print(
            f"Soak: {self.args.volunteers} volunteers, {self.args.workers} workers, "
            f"{self.args.duration:g} s, {os.cpu_count()} cores, {summary['date']}"
        )
        print("-" * width)
        for key in (
            "registrations_attempted",
            "requests",
            "retry_share",
            "retry_share_with_outage",
            "retries_by_reason",
            "abandoned_by_client_timeout",
            "connection_errors",
            "statuses",
            "throughput_rps",
            "p50_ms",
            "p99_ms",
            "racing_attempts",
            "contested_codes",
            "load_seconds",
            "timeline_s",
            "db_down_seconds",
            "healthz_while_down",
            "healthy_after_start_seconds",
            "burst",
            "metrics_registration_requests",
            "worker_pids",
        ):
            if key in summary:
                print(f"  {key:<32} {summary[key]}")
        print("-" * width)
        for c in self.checks:
            mark = "PASS" if c.ok else ("SKIP" if c.ok is None else "FAIL")
            print(f"  [{mark}] {c.name}")
            if c.detail:
                print(f"         {c.detail}")
        for note in self.notes:
            print(f"  note: {note}")
        print("=" * width)
        print(
            "RESULT:",
            "all guarantees held" if not failed else f"{len(failed)} guarantee(s) violated",
        )
        if self.args.json:
            Path(self.args.json).write_text(
                json.dumps(summary, indent=2, ensure_ascii=False, default=str)
            )
        return 0 if not failed else 1


def _code(reply: Reply) -> str:
    try:
        return str(reply.json().get("code"))
    except (ValueError, AttributeError):
        return "?"


def _payment_event(event_id: str, account_number: str, amount: int) -> bytes:
    """A payment.received event body of our own partner API, as a partner would send it."""
    return json.dumps(
        {
            "id": event_id,
            "type": "payment.received",
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"bin": BIN, "account_number": account_number, "amount": amount},
        }
    ).encode()


def _sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--duration", type=float, default=180, help="seconds of registration load (default 180)"
    )
    p.add_argument("--volunteers", type=int, default=50)
    p.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    p.add_argument("--markets", type=int, default=10)
    p.add_argument("--outage", type=float, default=5, help="seconds the database stays down")
    p.add_argument(
        "--no-restart", dest="restart", action="store_false", help="do not restart the database"
    )
    p.add_argument(
        "--no-burst", dest="burst", action="store_false", help="skip the partner notification burst"
    )
    p.add_argument(
        "--events", type=int, default=140, help="genuine partner notifications in the burst"
    )
    p.add_argument(
        "--forged", type=int, default=40, help="forged partner notifications in the burst"
    )
    p.add_argument(
        "--timeout-share", type=float, default=0.15, help="first sends with a short client timeout"
    )
    p.add_argument(
        "--replay-share", type=float, default=0.15, help="acknowledged registrations sent again"
    )
    p.add_argument(
        "--race-share", type=float, default=0.1, help="registrations racing for a shared code"
    )
    p.add_argument(
        "--think-ms", type=float, default=50, help="max pause between a volunteer's registrations"
    )
    p.add_argument("--data-dir", type=Path, default=harness.ROOT / "var" / "soak")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep-db-running", dest="stop_db", action="store_false")
    p.add_argument("--json", help="also write the summary as JSON to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    return asyncio.run(Soak(parse_args(argv)).run())


if __name__ == "__main__":
    sys.exit(main())
