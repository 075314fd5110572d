"""The jobs service: a Flask app whose routes QStash calls to run background jobs."""

import os

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import logs
import settings
from clock import SystemClock
from models import db, make_database
from senders import build_senders


def create_app(test_config=None):
    """Build the app: defaults, then the environment, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_mapping(settings.defaults())
    if test_config is None:
        _load_dotenv(app.root_path)
    app.config.from_mapping(settings.from_environment())
    if test_config:
        app.config.update(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    url = app.config["DATABASE_URL"] or (
        "sqlite:///" + os.path.join(app.instance_path, "jobs.sqlite3")
    )
    app.config["DATABASE_URL"] = url
    db.initialize(make_database(url, int(app.config["DATABASE_POOL_SIZE"])))

    logs.configure(app.config["LOG_LEVEL"])
    app.extensions["clock"] = app.config.get("CLOCK") or SystemClock()
    app.extensions["senders"] = app.config.get("SENDERS") or build_senders(app.config)

    if not app.config["PUBLIC_BASE_URL"] and not app.config.get("TESTING"):
        app.logger.warning(
            "config: PUBLIC_BASE_URL is not set, so signatures are checked against "
            "the Host header the caller sent; set it in production"
        )

    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        # Only the scheme: the host a signature names comes from the Host
        # header or PUBLIC_BASE_URL, never from a header the caller can add.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    # Peewee connects on a request's first query (after the signature check)
    # and the connection goes back at the end of the request.
    @app.teardown_request
    def close_connection(exc):
        if not db.is_closed():
            db.close()

    @app.errorhandler(HTTPException)
    def plain_error(error):
        headers = dict(error.get_headers())  # keeps Allow on a 405
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return error.name, error.code, headers

    from blueprints.jobs import bp

    app.register_blueprint(bp)

    import cli

    cli.register(app)
    return app


def _load_dotenv(root):
    path = os.path.join(root, ".env")
    if os.path.exists(path):
        from dotenv import load_dotenv

        load_dotenv(path, override=False)
