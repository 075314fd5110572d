"""The reliability suite: concurrent deliveries, injected faults, hostile input.

`python -m reliability` runs it against gunicorn on a PostgreSQL database of
its own and prints the figures; see the README's Reliability section.
"""
