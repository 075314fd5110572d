"""Count the SQL statements a block of code sends to the database."""

import contextlib

from models import db

STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class Queries:
    def __init__(self):
        self.sql = []

    def __len__(self):
        return len(self.sql)


@contextlib.contextmanager
def count_queries(monkeypatch):
    """Record every data statement (not BEGIN/COMMIT/SAVEPOINT) sent inside."""
    queries = Queries()
    real = db.obj.execute_sql

    def recording(sql, params=None):
        if sql.lstrip().upper().startswith(STATEMENTS):
            queries.sql.append(sql)
        return real(sql, params)

    with monkeypatch.context() as patch:
        patch.setattr(db.obj, "execute_sql", recording)
        yield queries
