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
        indexes = ((("job", "started_at"), False),)


SERVICE_MODELS = [JobRun]
