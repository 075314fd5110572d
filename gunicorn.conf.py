"""gunicorn settings for a Heroku-style web dyno (and `make serve` / `make demo`,
which bind 127.0.0.1 on the command line instead)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Heroku's router gives up after 30 s; end a stuck request before that so the
# worker is recycled and QStash sees a failure it will retry. Jobs stop
# starting new sends at JOB_TIME_BUDGET (20 s), well inside this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "28"))
graceful_timeout = 25
keepalive = 5
# The router terminates TLS and forwards X-Forwarded-Proto/Host; trust it so
# the app sees the public https URL that QStash signed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# No runtime control socket: a dyno is managed by its platform, and two
# servers on one laptop would otherwise share one socket path.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
