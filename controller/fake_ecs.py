"""A fake ECS behind the real boto3 interface, for concurrency tests and the benchmark.

moto checks that ECS accepts our request shapes but cannot play AWS's bad days. This fake
speaks the ECS JSON protocol over HTTP on loopback (point ``AWS_ENDPOINT_URL`` at it, as
for moto or LocalStack), so several controller *processes* share one ECS, and it does
what the real one does when it matters:

* ``clientToken`` idempotency: the same token answers with the same task;
* capacity failures in ``failures[]`` and ``ThrottlingException``, at given rates;
* slow PROVISIONING, tasks stuck there until stopped, TaskFailedToStart,
  SpotInterruption, exit codes 0/1/2, and stopped tasks it forgets (``MISSING``);
* StopTask (UserInitiated; a running runner exits 3 on SIGTERM).

It counts every task per (run, attempt) tag, so a test can prove an attempt never got two.
Outcomes are drawn from a seeded random generator per (run, attempt, token).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
_CAPACITY = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)


@dataclass
class Behaviour:
    capacity_failure_rate: float = 0.0
    throttle_rate: float = 0.0
    provisioning_seconds: tuple[float, float] = (0.02, 0.2)
    running_seconds: tuple[float, float] = (0.05, 0.3)
    # Weights of what a started task does.
    outcomes: dict[str, float] = field(
        default_factory=lambda: {
            "exit0": 0.80,
            "exit1": 0.10,
            "exit2": 0.02,
            "failed_to_start": 0.03,
            "spot": 0.02,
            "stuck": 0.01,
            "missing": 0.02,
        }
    )
    #: Seconds a stopped task stays describable before a "missing" one is forgotten.
    forget_after: float = 0.0
    seed: int = 7


@dataclass
class FakeTask:
    arn: str
    run_id: str
    attempt: int
    token: str
    outcome: str
    created: float
    provisioning: float
    running: float
    request: dict[str, Any]
    stop_requested: float | None = None
    stop_reason: str | None = None
    stopped_early: tuple[float, str, int | None] | None = None  # (at, stop code, exit code)


class FakeEcs:
    def __init__(
        self, behaviour: Behaviour | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.behaviour = behaviour or Behaviour()
        self._clock = clock
        self._lock = threading.Lock()
        self._rng = random.Random(self.behaviour.seed)
        self.tasks: dict[str, FakeTask] = {}
        self._tokens: dict[str, str] = {}
        self.started = Counter[tuple[str, int]]()
        self.calls = Counter[str]()
        self.capacity_failures = 0
        self.throttled = 0
        self.peak_live = 0
        self._server: ThreadingHTTPServer | None = None

    # ----- the task life cycle -----------------------------------------------------------

    def _status(self, task: FakeTask, now: float) -> tuple[str, str | None, int | None]:
        """(lastStatus, stopCode, exitCode) at ``now``."""
        if task.stopped_early is not None and now >= task.stopped_early[0]:
            return "STOPPED", task.stopped_early[1], task.stopped_early[2]
        age = now - task.created
        if task.outcome == "stuck" or age < task.provisioning:
            return ("PROVISIONING" if age < task.provisioning / 2 else "PENDING"), None, None
        if task.outcome == "failed_to_start":
            return "STOPPED", "TaskFailedToStart", None
        ends = task.provisioning + task.running
        if task.outcome == "spot" and age >= task.provisioning + task.running / 2:
            return "STOPPED", "SpotInterruption", 143
        if age < ends:
            return "RUNNING", None, None
        code = {"exit1": 1, "exit2": 2}.get(task.outcome, 0)
        return "STOPPED", "EssentialContainerExited", code

    def _stopped_at(self, task: FakeTask) -> float:
        if task.stopped_early is not None:
            return task.stopped_early[0]
        return task.created + task.provisioning + task.running

    def live_tasks(self) -> int:
        now = self._clock()
        with self._lock:
            return sum(1 for t in self.tasks.values() if self._status(t, now)[0] != "STOPPED")

    # ----- ECS actions -----------------------------------------------------------------------

    def handle(self, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls[action] += 1
            method = getattr(self, "_" + action, None)
            if method is None:
                return 400, {
                    "__type": "InvalidParameterException",
                    "message": f"{action} is not faked",
                }
            result: tuple[int, dict[str, Any]] = method(body)
            return result

    def _RunTask(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        b = self.behaviour
        token = body.get("clientToken") or uuid.uuid4().hex
        if token in self._tokens:
            return 200, {
                "tasks": [self._describe_one(self.tasks[self._tokens[token]])],
                "failures": [],
            }
        if self._rng.random() < b.throttle_rate:
            self.throttled += 1
            return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        if self._rng.random() < b.capacity_failure_rate:
            self.capacity_failures += 1
            return 200, {"tasks": [], "failures": [{"arn": "", "reason": _CAPACITY}]}
        tags = {t["key"]: t["value"] for t in body.get("tags") or []}
        run_id, attempt = tags.get("proctor:run-id", "?"), int(tags.get("proctor:attempt", 0))
        draw = random.Random(f"{b.seed}:{run_id}:{attempt}")
        outcome = draw.choices(list(b.outcomes), weights=list(b.outcomes.values()))[0]
        arn = f"arn:aws:ecs:us-east-1:123456789012:task/{body.get('cluster')}/{uuid.uuid4().hex}"
        task = FakeTask(
            arn=arn,
            run_id=run_id,
            attempt=attempt,
            token=token,
            outcome=outcome,
            created=self._clock(),
            provisioning=draw.uniform(*b.provisioning_seconds),
            running=draw.uniform(*b.running_seconds),
            request=body,
        )
        self.tasks[arn] = task
        self._tokens[token] = arn
        self.started[(run_id, attempt)] += 1
        now = self._clock()
        live = sum(1 for t in self.tasks.values() if self._status(t, now)[0] != "STOPPED")
        self.peak_live = max(self.peak_live, live)
        return 200, {"tasks": [self._describe_one(task)], "failures": []}

    def _describe_one(self, task: FakeTask, *, tags: bool = False) -> dict[str, Any]:
        now = self._clock()
        last, stop_code, exit_code = self._status(task, now)
        container: dict[str, Any] = {"name": "runner", "lastStatus": last}
        if exit_code is not None:
            container["exitCode"] = exit_code
        described: dict[str, Any] = {
            "taskArn": task.arn,
            "lastStatus": last,
            "desiredStatus": "STOPPED" if last == "STOPPED" or task.stop_requested else "RUNNING",
            "startedBy": task.request.get("startedBy", ""),
            "containers": [container],
            "createdAt": time.time() - (now - task.created),
        }
        if task.stop_requested is not None:
            described["stoppingAt"] = time.time() - (now - task.stop_requested)
        if last == "STOPPED":
            described["stopCode"] = stop_code
            described["stoppedReason"] = task.stop_reason or f"fake: {task.outcome}"
        if tags:
            described["tags"] = task.request.get("tags") or []
        return described

    def _forgotten(self, task: FakeTask, now: float) -> bool:
        return (
            task.outcome == "missing"
            and self._status(task, now)[0] == "STOPPED"
            and now - self._stopped_at(task) >= self.behaviour.forget_after
        )

    def _DescribeTasks(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        arns = body.get("tasks") or []
        if len(arns) > 100:
            return 400, {"__type": "InvalidParameterException", "message": "too many tasks"}
        if self._rng.random() < self.behaviour.throttle_rate:
            self.throttled += 1
            return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        now = self._clock()
        tasks, failures = [], []
        with_tags = "TAGS" in (body.get("include") or [])
        for arn in arns:
            task = self.tasks.get(arn)
            if task is None or self._forgotten(task, now):
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                tasks.append(self._describe_one(task, tags=with_tags))
        return 200, {"tasks": tasks, "failures": failures}

    def _StopTask(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        task = self.tasks.get(body.get("task", ""))
        if task is None:
            return 400, {"__type": "InvalidParameterException", "message": "task not found"}
        now = self._clock()
        last, _, _ = self._status(task, now)
        if last != "STOPPED" and task.stopped_early is None:
            task.stop_requested = now
            task.stop_reason = body.get("reason")
            # A running runner saves what it has on SIGTERM and exits 3.
            task.stopped_early = (now, "UserInitiated", 3 if last == "RUNNING" else None)
        return 200, {"task": self._describe_one(task)}

    def _ListTasks(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        now = self._clock()
        wanted = body.get("desiredStatus", "RUNNING")
        arns = []
        for task in self.tasks.values():
            if body.get("startedBy") and task.request.get("startedBy") != body["startedBy"]:
                continue
            stopped = self._status(task, now)[0] == "STOPPED" or task.stop_requested is not None
            if (wanted == "STOPPED") == stopped and not self._forgotten(task, now):
                arns.append(task.arn)
        return 200, {"taskArns": arns}

    # ----- HTTP -------------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints do

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in separate writes: without this, Nagle and
                # delayed ACKs add ~40 ms to every call.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                action = self.headers.get("X-Amz-Target", "").removeprefix(_TARGET_PREFIX)
                status, answer = fake.handle(action, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a controller killed mid-request (the chaos test) is not news

        self._server = Server((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-ecs").start()
        return f"http://{host}:{self._server.server_address[1]}"

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
