"""Live progress as Server-Sent Events, for ``EventSource`` in the UI and ``curl -N``.

Messages: ``state`` (a run's status changed; a ``RunEvent``), ``step`` (a step finished),
``batch`` (the batch's status or counts changed) and a last ``end`` when the run or the
whole batch has finished, after which the stream closes. Each message's ``id`` is a
cursor: a reconnecting ``EventSource`` sends it back as ``Last-Event-ID`` and resumes.
The database is polled every ``events_poll_seconds`` (a ``create_app`` parameter).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio.to_thread
from litestar import Controller, get
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.context import EngineDep, PollSecondsDep
from api.problems import problem_responses
from api.services import events

#: Polls without news after which a comment line keeps proxies from closing the stream.
KEEPALIVE_POLLS = 15

AccessToken = Annotated[
    str | None,
    QueryParameter(
        name="access_token",
        required=False,
        max_length=500,
        description="The bearer token, for EventSource (which cannot send headers).",
    ),
]
LastEventId = Annotated[
    str | None, HeaderParameter(name="Last-Event-ID", required=False, max_length=100)
]


def _message(message: events.Message) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        data=json.dumps(message.data), event=message.event, id=str(message.cursor)
    )


async def _stream(
    poll_once: Callable[[events.StreamState], events.Poll],
    last_event_id: str | None,
    interval: float,
) -> AsyncIterator[ServerSentEventMessage]:
    """Poll (in a worker thread) until finished, sending news and keep-alive comments."""
    state, idle = events.StreamState.resume(last_event_id), 0
    while True:
        poll = await anyio.to_thread.run_sync(poll_once, state)
        for message in poll.messages:
            yield _message(message)
        if poll.finished:
            return
        idle = 0 if poll.messages else idle + 1
        if idle >= KEEPALIVE_POLLS:
            idle = 0
            yield ServerSentEventMessage(comment="keep-alive")
        await anyio.sleep(interval)


class EventsController(Controller):
    path = "/api/test-runs"
    tags = ["events"]

    @get(
        "/{run_id:str}/events",
        opt={"scope": "read", "query_token": True},
        media_type="text/event-stream",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def run_events(
        self,
        events_poll_seconds: PollSecondsDep,
        engine: EngineDep,
        run_id: FromPath[str],
        last_event_id: LastEventId = None,
        access_token: AccessToken = None,
    ) -> ServerSentEvent:
        """A run's state changes and finished steps, until it has finished."""
        await anyio.to_thread.run_sync(events.check_run, engine, run_id)
        return ServerSentEvent(
            _stream(
                lambda state: events.poll_run(engine, run_id, state),
                last_event_id,
                events_poll_seconds,
            )
        )

    @get(
        "/batch/{batch_id:str}/events",
        opt={"scope": "read", "query_token": True},
        media_type="text/event-stream",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def batch_events(
        self,
        events_poll_seconds: PollSecondsDep,
        engine: EngineDep,
        batch_id: FromPath[str],
        last_event_id: LastEventId = None,
        access_token: AccessToken = None,
    ) -> ServerSentEvent:
        """Every run's state changes and steps, and the batch's status, until all finish."""
        await anyio.to_thread.run_sync(events.check_batch, engine, batch_id)
        return ServerSentEvent(
            _stream(
                lambda state: events.poll_batch(engine, batch_id, state),
                last_event_id,
                events_poll_seconds,
            )
        )
