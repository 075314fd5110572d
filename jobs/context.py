"""What a job run is handed: its instant, payload, senders and time budget."""

import time
from dataclasses import dataclass, field
from datetime import datetime

from exceptions import BudgetExceeded, DeliveryHeld


class Budget:
    """A job's time budget, on the monotonic clock.

    Past it a job starts no new sends; the route answers 503 with Retry-After
    so that QStash comes back for the rest.
    """

    def __init__(self, job, seconds, retry_after=30, timer=time.monotonic):
        self.job = job
        self.seconds = seconds
        self.retry_after = retry_after
        self.timer = timer
        self.started = timer()

    def remaining(self):
        """Seconds left before the budget is spent (negative once it is)."""
        return self.seconds - (self.timer() - self.started)

    def spent(self):
        return self.remaining() <= 0

    def exceeded(self):
        return BudgetExceeded(self.job, self.retry_after)

    def held(self):
        """The deferral for a notice another delivery is still sending."""
        return DeliveryHeld(self.job, self.retry_after)

    def check(self):
        if self.spent():
            raise self.exceeded()


@dataclass
class JobContext:
    job: str
    now: datetime  # the run's one instant, aware UTC; every comparison uses it
    payload: dict  # the body's JSON object; {} when absent or malformed
    senders: object  # senders.Senders
    config: dict
    budget: Budget
    transient_failures: int = 0
    log_fields: dict = field(default_factory=dict)

    def notify(self, notices):
        """Deliver notices exactly once (see notifications.deliver)."""
        from notifications import deliver

        return deliver(self, notices)
