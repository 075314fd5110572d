"""gunicorn settings for the reliability run: loopback only, logs to stdout."""

bind = "127.0.0.1:0"
worker_class = "sync"
timeout = 30
graceful_timeout = 5
accesslog = "-"
errorlog = "-"
loglevel = "info"
