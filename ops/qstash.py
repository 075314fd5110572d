"""The QStash API client, built from the configuration."""

from qstash import QStash

from exceptions import ConfigurationError

# The SDK retries a request that could not be sent; a short backoff keeps a
# command or a platform event from hanging on an unreachable QStash.
RETRY = {"retries": 2, "backoff": lambda attempt: 200 * (attempt + 1)}


def qstash_client(config):
    """A QStash client for QSTASH_TOKEN, at QSTASH_URL when one is set.

    Under TESTING a QSTASH_URL is required, so that no test can reach the
    real API through the SDK's default address.
    """
    token = config.get("QSTASH_TOKEN")
    if not token:
        raise ConfigurationError("QSTASH_TOKEN is not set")
    base_url = config.get("QSTASH_URL")
    if config.get("TESTING") and not base_url:
        raise ConfigurationError("QSTASH_URL must point at a fake QStash in tests")
    return QStash(token, retry=RETRY, base_url=base_url)


def jobs_url(config, name=""):
    """The public URL of a job route: PUBLIC_BASE_URL + /api/jobs/<name>."""
    base = config.get("PUBLIC_BASE_URL")
    if not base:
        raise ConfigurationError(
            "PUBLIC_BASE_URL is not set (the https address QStash calls)"
        )
    return f"{base.rstrip('/')}/api/jobs/{name}"
