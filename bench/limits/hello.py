"""Limit (a): a bare Flask "hello" endpoint. Serve with ``gunicorn bench.limits.hello:app``."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Return the smallest useful answer."""
    return "hello"
