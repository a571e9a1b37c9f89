"""agent_states: each agent's state now — who is ready, reserved, on a call or in wrap-up, in
which agent group and since when — for the dialer (ready agents of a group), the campaign-group
status (agents by state) and the agent desktop API.

One row per agent, folded with the aggregate's own ``evolve`` (the row keeps the folded state
as JSON beside the columns it is queried by), so what the read model says is what a replay of
the agent's stream gives, live or rebuilt.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from domain import agent
from domain.agent import STATES, Agent
from projections.sql import Cursor, Database, id_text, in_chunks
from schemas import agents, topics
from schemas.base import Event

TABLES = ("agent_states", "agent_state_time")
QUARTER = 900  # agent_state_time's buckets: quarter hours, as call_results', for local hours and days
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Agent)


class AgentRow(msgspec.Struct, frozen=True, kw_only=True):
    """An agent as the read model has it."""

    agent_id: UUID
    login: str
    name: str
    agent_group: str
    state: str
    reason: str  # why it is not ready
    since: datetime  # UTC: when the current state began
    campaign_group_id: UUID | None  # what it is reserved for, offered, or on a call of
    record_id: UUID | None
    attempt_id: UUID | None
    purpose: str  # of a reservation: engage or preview
    preview: str  # "", requested, offered or accepted
    simulated: bool
    version: int


def row_of(state: Agent) -> AgentRow:
    return AgentRow(
        agent_id=state.id,
        login=state.login,
        name=state.name,
        agent_group=state.agent_group,
        state=state.state,
        reason=state.reason,
        since=state.since,
        campaign_group_id=state.campaign_group_id,
        record_id=state.record_id,
        attempt_id=state.attempt_id,
        purpose=state.purpose,
        preview=state.preview,
        simulated=state.simulated,
        version=state.version,
    )


class AgentStates:
    name = "agent_states"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.AGENTS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS agent_states (agent_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
            "login TEXT NOT NULL, agent_group TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS agent_states_by_group ON agent_states (account_id, agent_group, state)"
        )
        cursor.execute("CREATE INDEX IF NOT EXISTS agent_states_by_login ON agent_states (account_id, login)")
        _add_changed_at(cursor)
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS agent_state_time (agent_id TEXT NOT NULL, state TEXT NOT NULL, "
            "start BIGINT NOT NULL, account_id TEXT NOT NULL, ms BIGINT NOT NULL, PRIMARY KEY (agent_id, state, start))"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS agent_state_time_by_time ON agent_state_time (account_id, start)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        self.apply_many(cursor, [(event, position)])

    def apply_many(self, cursor: Cursor, events: Sequence[tuple[Event, int]]) -> None:
        """Apply events in order: each agent's row is read once and written once, with the
        time its states took summed in memory (a dialer's round moves an agent several times:
        reserved, on a call, wrap-up, ready)."""
        changes = [(event, position) for event, position in events if isinstance(event, agents.AgentEvent)]
        if not changes:
            return
        states = _read(cursor, {id_text(event.originator_id) for event, _ in changes})
        spent: dict[tuple[str, str, int], tuple[str, int]] = {}
        changed: dict[str, Agent] = {}
        changed_at: dict[str, int] = {}
        for event, position in changes:
            key = id_text(event.originator_id)
            before = states.get(key)
            if before is not None and event.originator_version <= before.version:
                continue  # applied already (a redelivered event)
            state = agent.evolve(before, event)
            if state is None:
                continue
            if before is not None and state.since != before.since and before.state != "logged_out":
                for start, ms in quarters(before.since.timestamp(), state.since.timestamp()):
                    account, total = spent.get((key, before.state, start), (id_text(before.account_id), 0))
                    spent[(key, before.state, start)] = (account, total + ms)
            states[key] = changed[key] = state
            changed_at[key] = position
        if spent:
            cursor.executemany(
                "INSERT INTO agent_state_time VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, state, start) "
                "DO UPDATE SET ms = agent_state_time.ms + excluded.ms",
                [(agent_id, state, start, account, ms) for (agent_id, state, start), (account, ms) in spent.items()],
            )
        if not changed:
            return
        cursor.executemany(
            "INSERT INTO agent_states (agent_id, account_id, login, agent_group, state, body, changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET "
            "login = excluded.login, agent_group = excluded.agent_group, state = excluded.state, "
            "body = excluded.body, changed_at = excluded.changed_at",
            [
                (
                    key,
                    id_text(state.account_id),
                    state.login,
                    state.agent_group,
                    state.state,
                    _encoder.encode(state).decode(),
                    changed_at[key],
                )
                for key, state in changed.items()
            ],
        )


def _add_changed_at(cursor: Cursor) -> None:
    """The log position of each row's last change (see :meth:`AgentQueries.changes`), added to a
    table made before it (probed as ``projections.records`` probes its later columns); rows
    from before it read as changed at 0, which the first full read of a follower covers."""
    try:
        cursor.execute("SELECT changed_at FROM agent_states WHERE 1 = 0")
    except Exception:  # the database's own "no such column" error
        cursor.execute("ALTER TABLE agent_states ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0")
    cursor.execute("CREATE INDEX IF NOT EXISTS agent_states_by_change ON agent_states (account_id, changed_at)")


def _read(cursor: Cursor, agent_ids: builtins.set[str]) -> dict[str, Agent]:
    """The folded states of those of ``agent_ids`` that have a row."""
    found: dict[str, Agent] = {}
    for marks, chunk in in_chunks(builtins.list(agent_ids)):
        cursor.execute(f"SELECT agent_id, body FROM agent_states WHERE agent_id IN ({marks})", chunk)
        found.update((str(agent_id), _decoder.decode(body)) for agent_id, body in cursor.fetchall())
    return found


def quarters(start: float, end: float) -> builtins.list[tuple[int, int]]:
    """[start, end) (epoch seconds) as (quarter hour's start, milliseconds in it)."""
    spans = []
    while start < end:
        bucket = int(start // QUARTER) * QUARTER
        upto = min(end, bucket + QUARTER)
        spans.append((bucket, round(upto * 1000) - round(start * 1000)))
        start = upto
    return spans


# Rows decoded lately, by their stored JSON: the dialer reads its agents twice a second, and
# most of them have not changed since (a row is immutable, so one object serves every reader).
DECODED_ROWS = 4096


class AgentQueries:
    def __init__(self, db: Database):
        self.db = db
        self._decoded: dict[str, AgentRow] = {}

    def _row(self, body: str) -> AgentRow:
        row = self._decoded.get(body)
        if row is None:
            if len(self._decoded) >= DECODED_ROWS:
                self._decoded = {}
            row = self._decoded[body] = row_of(_decoder.decode(body))
        return row

    def get(self, account_id: UUID, agent_id: UUID) -> AgentRow | None:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body FROM agent_states WHERE agent_id = ? AND account_id = ?",
                (str(agent_id), str(account_id)),
            )
            row = cursor.fetchone()
        return None if row is None else self._row(row[0])

    def by_group(
        self, account_id: UUID, agent_group: str, *, logged_out: bool = False
    ) -> builtins.list[AgentRow]:
        """The agents of an agent group by login; those logged out only when asked."""
        return self._select(account_id, agent_group, logged_out=logged_out)

    def changes(
        self, account_id: UUID, agent_group: str, after: int | None
    ) -> tuple[builtins.list[AgentRow], int]:
        """What a follower of one agent group (a dialer) reads twice a second, and where the
        account's agents stand (the newest change's log position), in one snapshot.

        With ``after`` None: the group's agents, as :meth:`by_group`. Otherwise: the account's
        agents changed since ``after``, of whichever group and in whichever state (one that
        left the group or logged out says so). Events come in log order on the embedded bus,
        so nothing changed earlier commits later; on Kafka, partitions apply in their own
        order, and a follower reads everything again now and then (see the dialer)."""
        params: builtins.list[object]
        if after is None:
            which, params = "agent_group = ? AND state <> 'logged_out'", [agent_group]
        else:
            which, params = "changed_at > ?", [after]
        # One statement, so one snapshot: the rows and where they stand.
        found = self.db.select(
            "SELECT MAX(changed_at), NULL FROM agent_states WHERE account_id = ? "
            f"UNION ALL SELECT NULL, body FROM agent_states WHERE account_id = ? AND {which}",
            [str(account_id), str(account_id), *params],
        )
        newest = next((int(at) for at, body in found if body is None and at is not None), 0)
        rows = sorted((self._row(body) for _, body in found if body is not None), key=lambda row: row.login)
        return rows, newest

    def counts(self, account_id: UUID, agent_group: str) -> dict[str, int]:
        """How many agents of the group are in each state (every state named, zero or not)."""
        found: dict[str, int] = dict.fromkeys(STATES, 0)
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT state, COUNT(*) FROM agent_states WHERE account_id = ? AND agent_group = ? GROUP BY state",
                (str(account_id), agent_group),
            )
            for state, count in cursor.fetchall():
                found[str(state)] = int(count)
        return found

    def state_time(
        self, account_id: UUID, first: int, last: int, agent_ids: Sequence[UUID] = ()
    ) -> builtins.list[tuple[str, str, int, int]]:
        """(agent id, state, quarter hour's start, milliseconds) of the states the account's
        agents left, in the quarter hours starting in [first, last) (epoch seconds); the state
        an agent is in now is its row's (``state`` since ``since``), not here yet."""
        sql = "SELECT agent_id, state, start, ms FROM agent_state_time WHERE account_id = ? AND start >= ? AND start < ?"
        params: builtins.list[object] = [str(account_id), first, last]
        if agent_ids:
            sql += f" AND agent_id IN ({', '.join('?' for _ in agent_ids)})"
            params += [str(agent_id) for agent_id in agent_ids]
        with self.db.reading() as cursor:
            cursor.execute(sql, params)
            return [(str(a), str(st), int(start), int(ms)) for a, st, start, ms in cursor.fetchall()]

    def group_state_time(
        self, account_id: UUID, agent_group: str, first: int, last: int
    ) -> builtins.list[tuple[str, int, int]]:
        """(state, quarter hour's start, milliseconds) that the agents now in ``agent_group``
        spent together in the states they left, in the quarter hours starting in [first, last)
        (epoch seconds); as :meth:`state_time`, the states they are in now are not here yet."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT t.state, t.start, SUM(t.ms) FROM agent_state_time t "
                "JOIN agent_states a ON a.agent_id = t.agent_id "
                "WHERE t.account_id = ? AND t.start >= ? AND t.start < ? "
                "AND a.account_id = ? AND a.agent_group = ? GROUP BY t.state, t.start",
                (str(account_id), first, last, str(account_id), agent_group),
            )
            return [(str(state), int(start), int(ms)) for state, start, ms in cursor.fetchall()]

    def list(self, account_id: UUID, agent_group: str | None = None) -> builtins.list[AgentRow]:
        """Every agent of the account (of one agent group when named), logged out too, by login."""
        return self._select(account_id, agent_group, logged_out=True)

    def _select(
        self, account_id: UUID, agent_group: str | None, *, logged_out: bool
    ) -> builtins.list[AgentRow]:
        source = "FROM agent_states WHERE account_id = ?"
        params: builtins.list[str] = [str(account_id)]
        if agent_group is not None:
            source += " AND agent_group = ?"
            params.append(agent_group)
        if not logged_out:
            source += " AND state <> 'logged_out'"
        bodies = self.db.select_texts("body", source, params)
        # Sorted here: PostgreSQL's collation would order logins unlike SQLite's.
        return sorted((self._row(body) for body in bodies), key=lambda row: row.login)
