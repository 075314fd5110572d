"""Create job_run, the history of every verified delivery of a job.

A database made by `db create` before migrations existed already has the
table; creating it only if missing makes this script safe there too.
"""

from peewee import BigAutoField, IntegerField, Model, TextField

from models.base import InstantField


def up(migrator, db):
    class JobRun(Model):
        id = BigAutoField()
        job = TextField()
        message_id = TextField(null=True)
        retried = IntegerField(default=0)
        schedule_id = TextField(null=True)
        started_at = InstantField()
        finished_at = InstantField(null=True)
        outcome = TextField(default="running")
        processed = IntegerField(null=True)
        error = TextField(null=True)

        class Meta:
            database = db
            table_name = "job_run"
            indexes = ((("job", "started_at"), False),)

    db.create_tables([JobRun], safe=True)


def down(migrator, db):
    db.execute_sql("DROP TABLE job_run")
