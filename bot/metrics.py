"""Prometheus metrics: one registry per bot (not prometheus_client's global one, so several bots
in one process, as in tests, keep their own figures), served over HTTP only when METRICS_PORT
is set.

Counted as things happen: app commands (outcome and duration), scheduled job runs, Discord's
429 answers, recounts' reads of reaction users and their waits for the budget all processes
share. Read when Prometheus scrapes, from the scraping thread: the vote queue, the votes
submitted and each shard's gateway latency (reads of plain attributes, no lock needed).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

log = logging.getLogger(__name__)

# How a command ended: done; refused with a reason the member was shown (a domain error, a
# failed check, a bad option); or an unexpected failure (logged, answered with an apology).
OK = "ok"
REJECTED = "rejected"
FAILED = "failed"

# discord.py logs one WARNING on this logger for each 429 it receives, starting with this.
RATE_LIMIT_LOGGER = "discord.http"
RATE_LIMIT_MESSAGE = "We are being rate limited."


class _LiveFigures(Collector):
    """Figures read at scrape time from the running bot."""

    def __init__(
        self,
        *,
        queue_depth: Callable[[], int],
        votes_submitted: Callable[[], int],
        latencies: Callable[[], Iterable[tuple[int, float]]],
    ) -> None:
        self._queue_depth = queue_depth
        self._votes_submitted = votes_submitted
        self._latencies = latencies

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield CounterMetricFamily(
            "stackup_vote_events",
            "Reaction vote events submitted to the vote writer.",
            value=self._votes_submitted(),
        )
        yield GaugeMetricFamily(
            "stackup_vote_queue_depth",
            "Vote events and recounts not yet written.",
            value=self._queue_depth(),
        )
        latency = GaugeMetricFamily(
            "stackup_gateway_latency_seconds",
            "Time between a gateway HEARTBEAT and its ACK, per shard.",
            labels=["shard"],
        )
        try:
            shards = list(self._latencies())
        except RuntimeError:  # the shards changed while being read (a shard connecting)
            shards = []
        for shard_id, seconds in shards:
            latency.add_metric([str(shard_id)], seconds)
        yield latency


class _RateLimitCounter(logging.Filter):
    """Counts discord.py's rate-limit warnings for every bot watching them; filters nothing
    out. One for the process, installed once: a bot that is never closed (tests) leaves
    nothing behind but a dead weak reference."""

    def __init__(self) -> None:
        super().__init__()
        self.watchers: weakref.WeakSet[Metrics] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(RATE_LIMIT_MESSAGE):
            for metrics in list(self.watchers):
                metrics.rest_429.inc()
        return True


_rate_limits = _RateLimitCounter()
logging.getLogger(RATE_LIMIT_LOGGER).addFilter(_rate_limits)


class Metrics:
    """The bot's metrics and, when serving, its HTTP server."""

    def __init__(
        self,
        *,
        queue_depth: Callable[[], int],
        votes_submitted: Callable[[], int],
        latencies: Callable[[], Iterable[tuple[int, float]]],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "stackup_commands",
            "App commands run, by command and outcome (ok, rejected, failed).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "stackup_command_seconds",
            "Time from an app command's arrival to its end, by command.",
            ["command"],
            registry=self.registry,
        )
        self.scheduled_runs = Counter(
            "stackup_scheduled_runs",
            "Scheduled job runs, by job kind and outcome (ok, failed).",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.rest_429 = Counter(
            "stackup_rest_429",
            "HTTP 429 (rate limited) answers from Discord's REST API.",
            registry=self.registry,
        )
        self.recount_fetches = Counter(
            "stackup_recount_fetches",
            "Pages of reaction users read by recounts.",
            registry=self.registry,
        )
        self.recount_budget_waits = Counter(
            "stackup_recount_budget_waits",
            "Times a recount waited for the next window of the recount budget all processes "
            "share (RECOUNT_FETCHES_PER_SECOND).",
            registry=self.registry,
        )
        self.registry.register(
            _LiveFigures(
                queue_depth=queue_depth, votes_submitted=votes_submitted, latencies=latencies
            )
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- counted as it happens ---------------------------------------------------------

    def command_done(self, command: str, outcome: str, seconds: float | None) -> None:
        self.commands.labels(command=command, outcome=outcome).inc()
        if seconds is not None:
            self.command_seconds.labels(command=command).observe(seconds)

    def scheduled_run(self, job: str, outcome: str) -> None:
        self.scheduled_runs.labels(job=job, outcome=outcome).inc()

    def watch_rate_limits(self) -> None:
        """Count discord.py's 429 warnings from now until `close` (every client's in this
        process: one bot a process in production)."""
        _rate_limits.watchers.add(self)

    # -- served ------------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The port metrics are served on (the one the system chose for METRICS_PORT=0), or
        None when they are not served."""
        return self._server.server_address[1] if self._server is not None else None

    def serve(self, host: str, port: int) -> None:
        """Serve `/metrics` from a daemon thread. Raises OSError if the port is taken."""
        self._server, self._thread = start_http_server(port, host, registry=self.registry)
        log.info("serving Prometheus metrics on http://%s:%d/metrics", host, self.port)

    def close(self) -> None:
        """Stop serving (blocks up to the server's half-second poll: call it off the loop)."""
        _rate_limits.watchers.discard(self)
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
