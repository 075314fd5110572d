"""Better Stack heartbeats: one URL per job, pinged on success or failure."""

import logging

import requests

from settings import heartbeat_setting

log = logging.getLogger(__name__)


class Heartbeat:
    """Ping `BETTER_STACK_HEARTBEAT_<JOB>`; its `/fail` URL on failure.

    Never raises: a heartbeat that cannot be delivered is logged and the job's
    answer stands. A job with no URL configured is a no-op.
    """

    def __init__(self, config, session=None):
        self.config = config
        self.timeout = float(config.get("HTTP_TIMEOUT", 10))
        self.session = session or requests.Session()

    def url_for(self, job):
        return self.config.get(heartbeat_setting(job))

    def ping(self, job, failed=False):
        url = self.url_for(job)
        if not url:
            log.debug("heartbeat: %s has no URL, skipped", job)
            return False
        if failed:
            url = url.rstrip("/") + "/fail"
        try:
            response = self.session.post(url, timeout=min(self.timeout, 5.0))
        except requests.RequestException as error:
            log.warning("heartbeat: %s ping failed, %s", job, type(error).__name__)
            return False
        if response.status_code >= 400:
            log.warning("heartbeat: %s ping answered %s", job, response.status_code)
            return False
        return True
