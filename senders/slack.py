"""Slack: an incoming webhook, or a bot token posting to one channel."""

import logging
from http.client import HTTPException

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from .base import Outcome, Result, SlackSender, outcome_for_status, retry_after

log = logging.getLogger(__name__)

# The SDK's own debug lines carry the webhook URL, which is a secret: give it
# a logger that never emits them, whatever the service's level.
sdk_log = logging.getLogger(__name__ + ".sdk")
sdk_log.setLevel(logging.INFO)

# Web API error codes that a later attempt may get past.
RETRYABLE_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}

NETWORK_ERRORS = (OSError, HTTPException)  # URLError, timeouts, resets


def _blocks(message):
    return message.blocks or None


class SlackWebhookSender(SlackSender):
    """Post to SLACK_WEBHOOK_URL with slack_sdk's WebhookClient.

    Never raises for provider or network failures. The client answers HTTP
    errors instead of raising them, so its status decides: 2xx is SENT, 429
    (with its Retry-After) and 5xx TRANSIENT, any other 4xx (`invalid_blocks`,
    `no_service`, `channel_is_archived`...) PERMANENT. Timeouts and
    connection errors are TRANSIENT. The client does not retry by itself.
    """

    def __init__(self, config):
        self.client = WebhookClient(
            config["SLACK_WEBHOOK_URL"],
            timeout=float(config.get("HTTP_TIMEOUT", 10)),
            logger=sdk_log,
            retry_handlers=[],
        )

    def send(self, message):
        try:
            response = self.client.send(text=message.text, blocks=_blocks(message))
        except SlackRequestError:
            log.warning("slack: webhook URL is not an http(s) URL")
            return Result(Outcome.PERMANENT, "slack: invalid webhook URL")
        except NETWORK_ERRORS as error:
            log.warning("slack: webhook unreachable, %s", type(error).__name__)
            return Result(Outcome.TRANSIENT, f"slack: {type(error).__name__}")

        status = response.status_code
        outcome = outcome_for_status(status)
        if outcome is Outcome.SENT:
            return Result(Outcome.SENT)
        body = (response.body or "").strip()[:200]
        wait = retry_after(response.headers) if status == 429 else None
        log.warning("slack: webhook answered %s %s", status, body)
        return Result(outcome, f"slack {status}: {body}", retry_after=wait)


class SlackBotSender(SlackSender):
    """Post to SLACK_REPORT_CHANNEL with a bot token (chat.postMessage).

    Never raises for provider or network failures. The Web API says `ok:
    false` with an error code: `ratelimited` (HTTP 429, Retry-After) and
    Slack's own outages are TRANSIENT, as are 5xx, timeouts and connection
    errors; the rest (`invalid_blocks`, `channel_not_found`, `not_in_channel`,
    `invalid_auth`...) are PERMANENT. SLACK_API_URL moves the API (tests,
    benchmarks).
    """

    def __init__(self, config):
        self.channel = config["SLACK_REPORT_CHANNEL"]
        self.client = WebClient(
            token=config["SLACK_BOT_TOKEN"],
            base_url=config.get("SLACK_API_URL") or WebClient.BASE_URL,
            timeout=float(config.get("HTTP_TIMEOUT", 10)),
            logger=sdk_log,
            retry_handlers=[],
        )

    def send(self, message):
        try:
            response = self.client.chat_postMessage(
                channel=self.channel, text=message.text, blocks=_blocks(message)
            )
        except SlackApiError as error:
            return self._refused(error.response)
        except SlackRequestError as error:
            log.warning("slack: request refused by the client, %s", error)
            return Result(Outcome.PERMANENT, f"slack: {error}"[:300])
        except NETWORK_ERRORS as error:
            log.warning("slack: API unreachable, %s", type(error).__name__)
            return Result(Outcome.TRANSIENT, f"slack: {type(error).__name__}")

        return Result(Outcome.SENT, response.get("ts"))

    def _refused(self, response):
        status = response.status_code
        code = response.get("error") if isinstance(response.data, dict) else None
        code = code or "unknown_error"
        if status == 429 or status >= 500 or code in RETRYABLE_ERRORS:
            outcome = Outcome.TRANSIENT
        else:
            outcome = Outcome.PERMANENT
        headers = {k.title(): v for k, v in (response.headers or {}).items()}
        wait = retry_after(headers) if outcome is Outcome.TRANSIENT else None
        log.warning("slack: chat.postMessage answered %s %s", status, code)
        return Result(outcome, f"slack {status}: {code}", retry_after=wait)
