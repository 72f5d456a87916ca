"""gunicorn settings of the bench's gevent set-ups (`bench/garage.py --configs gevent:2x100`):
the images' own (deploy/image/gunicorn.conf.py), and psycopg2 made cooperative in each
worker. gunicorn's gevent worker patches the standard library (sockets, so requests and
urllib3; threading, so the pools' locks) itself, but psycopg2 waits in C: without a wait
callback one query blocks every request of the worker. Measurement only: gevent and
psycogreen are not in the services' requirements (docs/performance.md, "The choice").
"""

import runpy
from pathlib import Path
from typing import Any

_image = runpy.run_path(str(Path(__file__).resolve().parent.parent / "deploy" / "image" / "gunicorn.conf.py"))
globals().update({name: value for name, value in _image.items() if not name.startswith("_")})


def post_fork(server: Any, worker: Any) -> None:
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()
