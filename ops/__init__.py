"""Operating the service: schedules, enqueueing, history, migrations, signing."""
