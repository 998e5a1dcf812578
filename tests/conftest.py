import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from postgres_server import postgres_server, postgres_url  # noqa: E402,F401 - fixtures for PostgreSQL tests
