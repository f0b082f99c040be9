"""Rasa's SQL tracker store, reading a bounded window of a conversation instead of all of it.

Rasa's ``SQLTrackerStore`` rebuilds a conversation from every event of its session on every turn,
and the policies and the action call then walk all of them: a conversation's 200th turn cost about
three times its 5th (docs/benchmarks.md). What a turn needs is the state (the slots) and the recent
events: the memoisation policy looks four turns back, rules a few steps, the actions at most the last
six exchanges.

This store keeps, per conversation, a *window*: the id of an event where the window starts and the
slot values just before it, as Rasa computed them by replaying everything before. A tracker is the
window's slot values (as ``SlotSet`` events) followed by the events from the window's start, so the
state is exactly Rasa's and the events the policies see near the end are the real ones. When the
window grows past twice ``keep_events``, its start moves forward to a turn boundary with no form
active (a form's first step must stay visible to Rasa's loop bookkeeping). Every event is still
written to the ``events`` table as Rasa writes it; ``retrieve_full_tracker`` (the REST API, exports)
still reads all of them, and erasing a conversation's events also voids its window.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

WINDOW_TABLE = "tracker_windows"
ACTION_LISTEN = "action_listen"
LOADED = "_tongxin_loaded"
_metadata = sa.MetaData()
windows = sa.Table(
    WINDOW_TABLE,
    _metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("start_id", sa.Integer, nullable=False),
    sa.Column("slots", sa.Text, nullable=False),
)


@dataclass
class _Loaded:
    """What a retrieved tracker was built from, so that ``save`` writes only what is new."""

    prefix: int  # synthetic SlotSet events at the front
    ids: list[int] = field(default_factory=list)  # database ids of the real events, in order

    @property
    def count(self) -> int:
        return self.prefix + len(self.ids)


class WindowedSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    def __init__(self, domain: Any = None, keep_events: int = 70, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        if keep_events < 20:
            raise ValueError("keep_events must be at least 20: the policies and actions look a few turns back")
        self.keep_events = int(keep_events)
        try:
            _metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError:
            # Two Rasa servers starting together on one PostgreSQL: the other one created it first.
            _metadata.create_all(self.engine)

    # ------------------------------------------------------------------ reading
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        event = self.SQLEvent
        with self.session_scope() as session:
            session_start = (
                session.query(sa.func.max(event.id))
                .filter(event.sender_id == sender_id, event.type_name == SessionStarted.type_name)
                .scalar()
            )
            start, slots = session_start, {}
            window = session.execute(
                sa.select(windows.c.start_id, windows.c.slots).where(windows.c.sender_id == sender_id)
            ).first()
            if window is not None and (session_start is None or window.start_id > session_start):
                # The window is only trusted while the event it starts at is still there: an erased
                # conversation that starts again under the same id must not inherit its slots.
                still_there = (
                    session.query(event.id).filter(event.id == window.start_id, event.sender_id == sender_id).first()
                )
                if still_there is not None:
                    start, slots = window.start_id, json.loads(window.slots)
            query = session.query(event.id, event.data).filter(event.sender_id == sender_id)
            if start is not None:
                query = query.filter(event.id >= start)
            rows = query.order_by(event.id).all()
        if not rows or self.domain is None:
            return None
        events = [json.loads(data) for _, data in rows]
        first_timestamp = events[0].get("timestamp")
        prefix = [
            {"event": "slot", "name": name, "value": value, "timestamp": first_timestamp}
            for name, value in slots.items()
        ]
        tracker = DialogueStateTracker.from_dict(sender_id, prefix + events, self.domain.slots)
        # Kept on the tracker itself: a tracker this store did not build has none and is saved Rasa's way.
        setattr(tracker, LOADED, _Loaded(len(prefix), [row_id for row_id, _ in rows]))
        return tracker

    # ------------------------------------------------------------------ writing
    async def save(self, tracker: DialogueStateTracker) -> None:
        loaded: _Loaded | None = getattr(tracker, LOADED, None)
        if loaded is None:
            # A tracker this store did not build (a new conversation, a replaced one): Rasa's own way.
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        events = list(tracker.events)
        with self.session_scope() as session:
            rows = [self._row(tracker.sender_id, e) for e in events[loaded.count :]]
            session.add_all(rows)
            session.flush()
            loaded.ids.extend(int(row.id) for row in rows)
            if len(loaded.ids) > 2 * self.keep_events:
                self._move_window(session, tracker, events, loaded)
            session.commit()

    def _row(self, sender_id: str, event: Any) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _move_window(self, session: Any, tracker: DialogueStateTracker, events: list[Any], loaded: _Loaded) -> None:
        """Start the window at the last turn boundary that leaves ``keep_events`` events after it."""
        latest = len(events) - self.keep_events
        for cut in range(latest, loaded.prefix, -1):
            boundary = (
                isinstance(events[cut], ActionExecuted)
                and events[cut].action_name == ACTION_LISTEN
                and cut + 1 < len(events)
                and isinstance(events[cut + 1], UserUttered)
            )
            if not boundary:
                continue
            before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], self.domain.slots)
            if before.active_loop_name is not None:
                return  # inside a form: try again once it has ended
            slots = {name: slot.value for name, slot in before.slots.items() if slot.value != slot.initial_value}
            start_id = loaded.ids[cut - loaded.prefix]
            session.execute(sa.delete(windows).where(windows.c.sender_id == tracker.sender_id))
            session.execute(
                sa.insert(windows).values(sender_id=tracker.sender_id, start_id=start_id, slots=json.dumps(slots))
            )
            logger.debug("tracker window of %s now starts at event %s", tracker.sender_id, start_id)
            return
