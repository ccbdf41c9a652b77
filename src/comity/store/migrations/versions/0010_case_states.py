"""A request's state, and the states its events go from and to, are states of the kinds'
transition tables: CHECK constraints on `cases.state`, `case_events.from_state` and
`case_events.to_state`.

The list is the tables' states when this migration was written (a migration must not change
with the code); `tests/store` checks that a migrated database takes every state of today's
tables, so a new state needs a new migration.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 09:00:00.000000
"""

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "accepted",
    "acknowledged",
    "closed",
    "conditions-declined",
    "conditions-proposed",
    "consulting",
    "delivered",
    "draft",
    "executed",
    "information-requested",
    "partially-executed",
    "postponed",
    "refused",
    "submitted",
    "withdrawn",
)


def _within(column: str) -> str:
    return f"{column} IN ({', '.join(repr(state) for state in STATES)})"


SET_EVENTS_ASIDE = (
    "CREATE TEMPORARY TABLE kept_case_events AS SELECT id, case_id, seq, act, by_side, actor,"
    " from_state, to_state, body, message_id, at, note FROM case_events"
)
PUT_EVENTS_BACK = (
    "INSERT INTO case_events (id, case_id, seq, act, by_side, actor, from_state, to_state, body,"
    " message_id, at, note) SELECT id, case_id, seq, act, by_side, actor, from_state, to_state,"
    " body, message_id, at, note FROM kept_case_events"
)


def _rebuilt(change: Callable[[], None]) -> None:
    """Run `change`. SQLite rebuilds a table to change its constraints, and dropping `cases`
    while events point at it breaks their foreign key (which cannot be switched off inside the
    migration's transaction): the events are set aside meanwhile and put back, ids and all."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(SET_EVENTS_ASIDE)
        op.execute("DELETE FROM case_events")
    change()
    if sqlite:
        op.execute(PUT_EVENTS_BACK)
        op.execute("DROP TABLE kept_case_events")


def _add() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.create_check_constraint(op.f("ck_cases_state"), _within("state"))
    with op.batch_alter_table("case_events") as batch:
        batch.create_check_constraint(op.f("ck_case_events_from_state"), _within("from_state"))
        batch.create_check_constraint(op.f("ck_case_events_to_state"), _within("to_state"))


def _drop() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.drop_constraint(op.f("ck_case_events_to_state"), type_="check")
        batch.drop_constraint(op.f("ck_case_events_from_state"), type_="check")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_state"), type_="check")


def upgrade() -> None:
    _rebuilt(_add)


def downgrade() -> None:
    _rebuilt(_drop)
