"""The service's own errors; every one derives from ServiceError."""


class ServiceError(Exception):
    """Base class of the service's errors."""


class ConfigurationError(ServiceError):
    """A setting is missing or malformed."""


class SignatureInvalid(ServiceError):
    """A request's Upstash-Signature did not verify."""


class TransientDeliveryError(ServiceError):
    """Some sends failed in a way a retry can fix; the job answers 500."""

    def __init__(self, job, failures):
        super().__init__(f"{job}: {failures} send(s) failed transiently")
        self.failures = failures


class Deferred(ServiceError):
    """The job stopped early on purpose; the route answers 503 with Retry-After."""

    answer = "Come back later"

    def __init__(self, job, retry_after, reason):
        super().__init__(f"{job}: {reason}, come back in {retry_after}s")
        self.retry_after = retry_after
        self.reason = reason


class BudgetExceeded(Deferred):
    """The job ran out of its time budget; QStash should come back for the rest."""

    answer = "Time budget spent"

    def __init__(self, job, retry_after):
        super().__init__(job, retry_after, "time budget spent")


class DeliveryHeld(Deferred):
    """Another delivery of the same message still holds its notification."""

    answer = "Another delivery is in progress"

    def __init__(self, job, retry_after):
        super().__init__(job, retry_after, "another delivery holds this notice")
