"""Chain-scale benchmarks: seed a PostgreSQL database, time every job, time sends."""
