"""The platform: HTTP API, database, admission, quotas, auth and leaderboard.

It stores specs and calls the pipeline; it never knows about vLLM flags. One package
per domain (``users``, ``challenges``, ``submissions``, ``leaderboard``), each with its
schemas (what crosses the wire), service (the queries) and routes (no queries).
Imports FastAPI and SQLAlchemy, so nothing below ``podium.cli`` imports it eagerly.
"""
