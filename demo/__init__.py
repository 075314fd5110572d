"""The demo: realistic data around now, and a run of every route over HTTP."""
