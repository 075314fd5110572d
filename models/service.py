"""Tables the jobs service keeps for itself, on top of the platform's."""

from peewee import BigAutoField, IntegerField, TextField

from .base import BaseModel, InstantField


class JobRun(BaseModel):
    """One verified delivery of a job: who called, when, and how it ended."""

    id = BigAutoField()
    job = TextField()
    message_id = TextField(null=True)
    retried = IntegerField(default=0)
    schedule_id = TextField(null=True)
    started_at = InstantField()
    finished_at = InstantField(null=True)
    outcome = TextField(default="running")  # running, success, failed, deferred
    processed = IntegerField(null=True)
    error = TextField(null=True)

    class Meta:
        table_name = "job_run"
        # The table and its (job, started_at) index are made by
        # migrations/0001_job_run.py; the model does not declare the index
        # again, so that no database ends up with it twice.


SERVICE_MODELS = [JobRun]
