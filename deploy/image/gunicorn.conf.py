"""gunicorn settings of every service image (gunicorn reads ./gunicorn.conf.py from /app).

The worker class, workers and threads come from GUNICORN_WORKER_CLASS, GUNICORN_WORKERS
and GUNICORN_THREADS, each service's own from tools/services.py; the defaults, gthread
2 workers x 4 threads, were chosen from measurements (docs/performance.md, "The choice").
"""

import os
import shutil

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Threads, not only processes, where a request waits on other services; sync (one
# request per process, threads ignored) where it burns CPU and waits only briefly.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 25  # under Kubernetes' 30 s termination grace period
keepalive = 5  # seconds; above nothing, below the ingress's upstream keep-alive
# The root filesystem is read-only: heartbeat files go to memory.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket: nothing manages gunicorn at run time here, and the root is read-only.
control_socket_disable = True
accesslog = None  # the services log each request themselves, as JSON with the request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# With several workers, /metrics must add up all of them (prometheus-client's multiprocess
# mode): each worker writes its samples under this directory, emptied at start.
if workers > 1:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
