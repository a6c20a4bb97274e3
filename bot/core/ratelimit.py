"""Per-member write limits: at most `limit` writes in any `per_seconds` window, per bucket.

Pure and in memory: a guild's interactions all reach the one process running its shard, so a
member's writes in a guild are counted in one place. The clock is injected, so tests move
time instead of waiting for it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from bot.errors import StackupError

# Past this many tracked keys, keys whose windows have emptied are dropped on the next hit.
SWEEP_ABOVE = 10_000


@dataclass(frozen=True)
class Rule:
    limit: int
    per_seconds: float
    # "additions", "changes": what the member is told they made too many of.
    noun: str


class RateLimited(StackupError):
    def __init__(self, rule: Rule, retry_after: float) -> None:
        self.rule = rule
        self.retry_after = retry_after
        wait = max(1, math.ceil(retry_after))
        period = "a minute" if rule.per_seconds == 60 else f"{rule.per_seconds:g} seconds"
        super().__init__(
            f"Easy there: at most {rule.limit} {rule.noun} {period}. Try again in {wait} s."
        )


class RateLimiter:
    def __init__(
        self, rules: Mapping[str, Rule], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rules = dict(rules)
        self.clock = clock
        self._hits: dict[tuple[str, Hashable], deque[float]] = {}

    def retry_after(self, bucket: str, key: Hashable) -> float:
        """Seconds until `key` may write in `bucket` again; 0 when it may now."""
        rule = self.rules[bucket]
        hits = self._hits.get((bucket, key))
        now = self.clock()
        if hits is None:
            return 0.0
        while hits and hits[0] <= now - rule.per_seconds:
            hits.popleft()
        if len(hits) < rule.limit:
            return 0.0
        return hits[0] + rule.per_seconds - now

    def hit(self, bucket: str, key: Hashable) -> None:
        """Count one write, or raise `RateLimited` (counting nothing) when over the limit."""
        wait = self.retry_after(bucket, key)
        if wait > 0:
            raise RateLimited(self.rules[bucket], wait)
        if len(self._hits) > SWEEP_ABOVE:
            self._sweep()
        self._hits.setdefault((bucket, key), deque()).append(self.clock())

    def allows(self, bucket: str, key: Hashable) -> bool:
        """Count one write if `key` may make it now; False (counting nothing) if not."""
        try:
            self.hit(bucket, key)
        except RateLimited:
            return False
        return True

    def _sweep(self) -> None:
        now = self.clock()
        for (bucket, key), hits in list(self._hits.items()):
            if not hits or hits[-1] <= now - self.rules[bucket].per_seconds:
                del self._hits[(bucket, key)]


ADDITIONS = "additions"
CHANGES = "changes"


def member_rules(additions_per_minute: int, changes_per_minute: int) -> dict[str, Rule]:
    """Adding something others will read (a pro, a decision, an advice post) is the scarcer
    bucket; changing one's own stack, follows or votes the looser one."""
    return {
        ADDITIONS: Rule(additions_per_minute, 60.0, "additions"),
        CHANGES: Rule(changes_per_minute, 60.0, "changes"),
    }
