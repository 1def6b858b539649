"""Gunicorn settings for csirt in production: ``gunicorn -c deploy/gunicorn.conf.py``.

One file serves both interfaces; ``CSIRT_INTERFACE`` picks which (``intake`` or ``console``;
``all`` for a one-machine install). Each runs as its own service (deploy/systemd/) behind nginx
(deploy/nginx/csirt.conf). Settings come from the environment so the units stay short:

- ``CSIRT_INTERFACE``: intake | console | all (default: all)
- ``CSIRT_BIND``: where to listen (default: 127.0.0.1:8001 intake, 8002 console, 8000 all)
- ``CSIRT_GUNICORN_WORKER_CLASS``: ``sync`` (default) or ``gthread``. ``make bench`` measured
  both on 2 cores (issue 21): the bare 50-row page does 1,112 req/s with 2 sync workers and 437
  with 2 x 4 gthread; csirt's pages follow. Threads in one worker share one GIL, so on few
  cores they add lock and switching cost and no throughput; nginx in front buffers slow
  clients, which is what threads would otherwise be for.
- ``CSIRT_GUNICORN_WORKERS``: default 2 (one per core of the 2-core machine measured).
- ``CSIRT_GUNICORN_THREADS``: gthread only (default 4); a sync worker has one thread.
- ``CSIRT_GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 30).

The intake never writes an access log: a line with the time, path and client address of a
tipster's visit is exactly what anonymity must not leave behind (nginx logs nothing either).
The console keeps gunicorn's access log off too; nginx logs console requests instead.
"""

from __future__ import annotations

import os

_DEFAULT_PORTS = {"intake": 8001, "console": 8002, "all": 8000}
_APPS = {"intake": "wsgi:intake", "console": "wsgi:console", "all": "wsgi:app"}


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)  # a typo stops the start: better than silently running one worker
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


interface = os.environ.get("CSIRT_INTERFACE", "all").strip() or "all"
if interface not in _APPS:
    raise ValueError(f"CSIRT_INTERFACE must be one of {', '.join(_APPS)}, not {interface!r}")

wsgi_app = _APPS[interface]
bind = [os.environ.get("CSIRT_BIND", f"127.0.0.1:{_DEFAULT_PORTS[interface]}")]

# sync by default: one request at a time per worker process, one worker per core (see above).
worker_class = os.environ.get("CSIRT_GUNICORN_WORKER_CLASS", "sync").strip() or "sync"
if worker_class not in {"sync", "gthread"}:
    raise ValueError(f"CSIRT_GUNICORN_WORKER_CLASS must be sync or gthread, not {worker_class!r}")
workers = _int_env("CSIRT_GUNICORN_WORKERS", 2)
# gunicorn turns a sync worker with threads > 1 into gthread: a sync worker gets exactly one.
threads = _int_env("CSIRT_GUNICORN_THREADS", 4) if worker_class == "gthread" else 1
# Heartbeat files in RAM: a slow disk must not make the master kill healthy workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - RAM, not /tmp
timeout = _int_env("CSIRT_GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5  # nginx keeps upstream connections open (keepalive in the upstream block)
# Recycle workers now and then (with jitter, not all at once) to bound memory growth.
max_requests = 5000
max_requests_jitter = 500
# The app is imported once in the master; workers fork with the code already loaded.
preload_app = True

# Requests come from nginx on loopback; a bigger body than the upload limit is refused there.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = "127.0.0.1"
proxy_allow_ips = "127.0.0.1"

# Logs: errors to stderr (journald); no access log on either interface (see above).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CSIRT_GUNICORN_LOGLEVEL", "warning")
capture_output = False
proc_name = f"csirt-{interface}"
# No control socket (gunicorn 27): csirt does not use it, and by default every gunicorn of one
# user shares one socket path, so two instances on a host would contend for it.
control_socket_disable = True


def post_fork(server: object, worker: object) -> None:
    """Drop database connections inherited from the master: each worker opens its own."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", {})
    database = extensions.get("csirt.db") if isinstance(extensions, dict) else None
    if database is not None:
        database.engine.dispose(close=False)
