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


class BudgetExceeded(ServiceError):
    """The job ran out of its time budget; QStash should come back for the rest."""

    def __init__(self, job, retry_after):
        super().__init__(f"{job}: time budget spent, come back in {retry_after}s")
        self.retry_after = retry_after
