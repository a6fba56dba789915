"""The lease: which node of a cluster runs a partition, decided in PostgreSQL.

CONTRACT §13. A partition is run by exactly one node at a time. The owner holds two things, both
in the database every node shares:

- a **session advisory lock** on a connection of its own (the lease connection). PostgreSQL
  frees it the moment that connection ends, so an owner that dies (kill -9, a crash: its
  socket closes) is replaced at the next poll of a standby, within a second;
- the partition's **row in ``partition_owner``**: the node, the lease connection's backend,
  an **epoch** that grows at every take-over, and an expiry on the database's clock that the
  owner pushes forward every ``renew`` seconds. An owner that stops renewing without dying
  (paused by SIGSTOP, a machine cut off while its TCP connection lingers) keeps its lock, so a
  standby that finds the expiry passed ends the old lease connection itself
  (``pg_terminate_backend``: nodes share one role) and takes the lock.

**Fencing.** Every transaction the owner's writer commits reads the row ``FOR KEY SHARE``
and checks its epoch (``check``) before it commits: an old owner, even one that was only
paused, is refused (``Fenced``) and writes nothing, and a take-over (which locks the row ``FOR
UPDATE`` before raising the epoch) waits for writes already checked to commit, so the new owner
loads everything its predecessor wrote. A check that meets a take-over under way waits for it
and reads the new epoch. Renewals change no key, so they never wait for the writer.

An owner that cannot renew (the row has another epoch, or the lease connection broke, which
freed the lock) has lost the partition and must stop serving at once (``Keeper``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

__all__ = ["Fence", "Fenced", "Keeper", "Lease", "check"]

log = logging.getLogger("ucs.cluster")

_LOCK_CLASS = 0x0C5
"""The first key of the advisory locks of partitions (the second: the partition's hash)."""


class Fenced(Exception):
    """The partition has a newer owner: this node's writes are refused."""


@dataclass(frozen=True, slots=True)
class Fence:
    """What a node's writes carry: the partition and the epoch it owns it under."""

    partition: str
    epoch: int


_EPOCH = "SELECT epoch FROM partition_owner WHERE partition = %(p)s FOR KEY SHARE"
"""The check of every writing transaction of a node of a cluster (on PostgreSQL, as every
cluster is), handed to psycopg without SQLAlchemy's statement work (a sixth of the
committer's CPU went to it)."""


def check(conn: Connection, fence: Fence) -> None:
    """In a writing transaction, before it commits: raise ``Fenced`` unless ``fence`` is the
    partition's current owner. The row stays locked (``FOR KEY SHARE``) until the transaction
    ends, so a take-over waits for it. Read with the driver's own cursor: in psycopg's pipeline
    mode (the committer's) its fetch sends what the transaction queued and waits for it."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_EPOCH, {"p": fence.partition})
        row = cursor.fetchone()
    finally:
        cursor.close()
    epoch = None if row is None else row[0]
    if epoch != fence.epoch:
        raise Fenced(
            f"partition {fence.partition!r} is run under epoch {epoch}, "
            f"not this node's {fence.epoch}: its writes are refused"
        )


@dataclass(frozen=True, slots=True)
class Owner:
    """Who runs a partition, as its row says."""

    node: str
    epoch: int
    backend: int
    expired: bool


class Lease:
    """One node's claim on one partition, over a connection of its own (autocommit)."""

    def __init__(
        self,
        url: str,
        partition: str,
        node: str,
        *,
        seconds: float = 3.0,
        advertise: str = "",
        sip: str = "",
    ) -> None:
        """``url``: SQLAlchemy's, of PostgreSQL. ``advertise``: where clients reach this node,
        kept in the owner's row for the other nodes to hand clients on to; ``sip``: where it
        takes SIP requests (HOST:PORT), for the other nodes to redirect them to."""
        self.partition = partition
        self.node = node
        self.advertise = advertise
        self.sip = sip
        self.seconds = seconds
        """How long a renewal holds: a standby may take over once it has passed."""
        timeout = max(1, int(seconds * 1000))
        # A database host that stops answering must fail a renewal within the lease, not
        # hang it: unacknowledged writes give up (tcp_user_timeout), so do slow statements.
        self.engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": max(1, int(seconds)),
                "keepalives": 1,
                "keepalives_idle": 1,
                "keepalives_interval": 1,
                "keepalives_count": 2,
                "tcp_user_timeout": timeout,
                "options": f"-c statement_timeout={timeout}",
            },
        )
        if self.engine.dialect.name != "postgresql":
            raise ValueError("a cluster needs PostgreSQL (--db postgresql://…)")
        self.fence: Fence | None = None
        """Set once the partition is ours."""
        self._conn: Connection | None = None

    # --- taking it ---------------------------------------------------------------------------

    def acquire(
        self, *, poll: float = 0.5, waiting: Callable[[Owner], None] | None = None
    ) -> Fence:
        """Wait until this node owns the partition; its fence. ``waiting`` hears the owner
        once, when this node starts waiting (a standby)."""
        told = False
        while True:
            owner = None
            try:
                fence = self.try_acquire()
                if fence is not None:
                    return fence
                owner = self.owner()
            except (OperationalError, DBAPIError) as err:
                log.warning("cluster: the database cannot be asked for the lease: %s", err)
                self._close()
            if owner is not None and not told and waiting is not None:
                waiting(owner)
                told = True
            time.sleep(poll)

    def try_acquire(self) -> Fence | None:
        """Take the partition if its lock is free (or its owner's lease has expired: then its
        lease connection is ended, and the lock taken at the next try); None if not now."""
        conn = self._connection()
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:c, hashtext(:p))"),
            {"c": _LOCK_CLASS, "p": self.partition},
        ).scalar()
        if not got:
            owner = self.owner()
            if owner is not None and owner.expired:
                log.warning(
                    "cluster: node %s's lease on partition %r expired: ending its connection",
                    owner.node,
                    self.partition,
                )
                conn.execute(text("SELECT pg_terminate_backend(:b)"), {"b": owner.backend})
            return None
        self.fence = self._take_over(conn)
        return self.fence

    def _take_over(self, conn: Connection) -> Fence:
        """With the lock held on ``conn``: raise the epoch, once writes checked under the old
        one are committed (``FOR UPDATE`` waits for them; one that hangs, paused
        mid-transaction, is ended after a second). In a transaction of its own, on another
        connection: the lease connection is in autocommit."""
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        values = {
            "p": self.partition,
            "n": self.node,
            "b": backend,
            "s": self.seconds,
            "u": self.advertise or None,
            "sip": self.sip or None,
        }
        while True:
            try:
                with self.engine.begin() as tx:
                    tx.execute(text("SET LOCAL lock_timeout = '1s'"))
                    tx.execute(
                        text(
                            "INSERT INTO partition_owner (partition, node, epoch, backend, "
                            "expires) VALUES (:p, :n, 0, :b, 0) ON CONFLICT (partition) "
                            "DO NOTHING"
                        ),
                        values,
                    )
                    tx.execute(
                        text("SELECT 1 FROM partition_owner WHERE partition = :p FOR UPDATE"),
                        values,
                    )
                    epoch = tx.execute(
                        text(
                            "UPDATE partition_owner SET node = :n, epoch = epoch + 1, "
                            "backend = :b, expires = extract(epoch FROM clock_timestamp()) + :s, "
                            "url = NULL, sip = NULL WHERE partition = :p RETURNING epoch"
                        ),
                        values,
                    ).scalar_one()
                return Fence(self.partition, int(epoch))
            except OperationalError as err:
                if "lock timeout" not in str(err):
                    raise
                log.warning(
                    "cluster: a write of partition %r's old owner holds its row: ending it",
                    self.partition,
                )
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                        "WHERE l.relation = 'partition_owner'::regclass "
                        "AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()"
                    )
                )

    def publish(self) -> bool:
        """Say where clients (``advertise``) and SIP requests (``sip``) reach this node, once
        it serves: from its take-over until then the row names none, so the other nodes'
        hand-offs tell clients that no node runs the partition yet (and hold them a moment)
        rather than send them to a node still loading it. False: the partition is no longer
        this node's."""
        if self.fence is None:
            return False
        with self.engine.begin() as tx:  # not the lease connection: the keeper's thread's
            changed = tx.execute(
                text(
                    "UPDATE partition_owner SET url = :u, sip = :sip "
                    "WHERE partition = :p AND epoch = :e"
                ),
                {
                    "u": self.advertise or None,
                    "sip": self.sip or None,
                    "p": self.partition,
                    "e": self.fence.epoch,
                },
            ).rowcount
        return changed == 1

    # --- holding it --------------------------------------------------------------------------

    def renew(self) -> str | None:
        """Push the expiry forward; None while the partition is ours, else why it is not."""
        if self.fence is None:
            return "the partition was never taken"
        try:
            changed = (
                self._connection()
                .execute(
                    text(
                        "UPDATE partition_owner "
                        "SET expires = extract(epoch FROM clock_timestamp()) + :s "
                        "WHERE partition = :p AND epoch = :e AND backend = pg_backend_pid()"
                    ),
                    {"p": self.partition, "e": self.fence.epoch, "s": self.seconds},
                )
                .rowcount
            )
        except (OperationalError, DBAPIError) as err:
            # The lease connection is gone, and the lock with it: another node may hold it now.
            self._close()
            return f"the lease connection failed ({_first_line(err)})"
        if changed != 1:
            return "another node took the partition over"
        return None

    def owner(self) -> Owner | None:
        row = (
            self._connection()
            .execute(
                text(
                    "SELECT node, epoch, backend, "
                    "expires < extract(epoch FROM clock_timestamp()) AS expired "
                    "FROM partition_owner WHERE partition = :p"
                ),
                {"p": self.partition},
            )
            .one_or_none()
        )
        return None if row is None else Owner(row.node, int(row.epoch), row.backend, row.expired)

    def release(self) -> None:
        """Let the partition go (a stop): the lock is freed with the connection, and the
        expiry set to now, so a standby takes over at its next poll."""
        if self._conn is not None and self.fence is not None:
            try:
                self._conn.execute(
                    text(
                        "UPDATE partition_owner SET expires = 0 WHERE partition = :p AND epoch = :e"
                    ),
                    {"p": self.partition, "e": self.fence.epoch},
                )
            except (OperationalError, DBAPIError):
                pass
        self._close()
        self.engine.dispose()

    def idle(self) -> None:
        """Close the lease connection of a partition not taken (a standby between polls)."""
        if self.fence is None:
            self._close()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except (OperationalError, DBAPIError):
                pass


class Keeper:
    """Renews a lease every ``every`` seconds from a thread of its own; the first time it
    cannot, calls ``lost`` with why (the node must stop serving at once). After each renewal,
    calls ``watch`` (if given): what else a node looks at each second."""

    def __init__(
        self,
        lease: Lease,
        lost: Callable[[str], None],
        *,
        every: float = 1.0,
        watch: Callable[[], None] | None = None,
    ) -> None:
        self.lease = lease
        self.lost = lost
        self.every = every
        self.watch = watch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ucs-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            why = self.lease.renew()
            if why is not None and not self._stop.is_set():
                self.lost(why)
                return
            if self.watch is not None:
                try:
                    self.watch()
                except Exception as err:  # the database away: the renewal says what matters
                    log.warning("cluster: a look at the database failed: %s", _first_line(err))


def _first_line(err: BaseException) -> str:
    cause = getattr(err, "orig", None) or err
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
