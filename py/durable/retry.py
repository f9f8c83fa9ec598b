"""Retry policies for steps: how many attempts a transient failure gets, and how long to wait between."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Try a step up to `attempts` times; wait `backoff * factor ** (n - 1)` seconds (at most
    `max_backoff`) after the n-th failure. Only exceptions that are instances of `retry_on` are retried.

    Set per job (`define_job(..., retry=...)`) or per step (`step.run(..., retry=...)`); without one a
    step runs once.
    """

    attempts: int = 3
    backoff: float = 0.5
    factor: float = 2.0
    max_backoff: float = 30.0
    retry_on: tuple[type[Exception], ...] = (Exception,)

    def should_retry(self, error: Exception, attempt: int) -> bool:
        """Whether the step gets another attempt after `error` ended attempt number `attempt` (from 1)."""
        return attempt < self.attempts and isinstance(error, self.retry_on)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after attempt number `attempt` (from 1) failed."""
        return float(min(self.max_backoff, self.backoff * self.factor ** (attempt - 1)))


NO_RETRY = RetryPolicy(attempts=1)
