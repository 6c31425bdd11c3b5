"""The resources of a soak or benchmark run: the database, the cache, the sandbox and the
dashboard's server.

Everything here is created for one run and removed by `Environment.close`, which the soak test
and the benchmark call in a `finally` block, so Ctrl-C and errors clean up too.
"""

import argparse
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests
from cryptography.fernet import Fernet
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
SETTINGS_MODULE = "benchmarks.soak_settings"
# The sandbox's seeded preset for a hidden participant that can view polls, which the dashboard
# requires before a meeting page starts live results.
OBSERVER_PRESET = "observer"
# The dashboard reads with this timeout in seconds, so an injected delay of 3 s or more times out.
READ_TIMEOUT_SECONDS = 2
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
# Variables of the caller's shell that would point the dashboard elsewhere, such as at a real
# Cloudflare account or another database, are dropped from the servers' environment.
DROPPED_PREFIXES = ("DJANGO_", "CLOUDFLARE_", "REALTIMEKIT_", "SANDBOX_", "ORGANISATION_")
DROPPED_NAMES = ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "TOKEN_ENCRYPTION_KEYS")


class SetupError(Exception):
    """A part of the soak run could not be set up. The message names the part and the cause."""


@dataclass
class Environment:
    """The temporary resources of one soak run, in the order they were created."""

    temp_dir: Path
    postgres_database: str | None = None
    redis_url: str | None = None
    database_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    log_files: list = field(default_factory=list)
    django_ready: bool = False

    @property
    def database_description(self):
        if self.postgres_database:
            return f"PostgreSQL database {self.postgres_database} on 127.0.0.1:5432"
        return f"SQLite file {self.temp_dir / 'soak.sqlite3'}"

    @property
    def cache_description(self):
        return f"Redis {self.redis_url}" if self.redis_url else "local-memory cache"

    def close(self, *, keep_logs):
        """Stop the servers, drop the database, flush the run's Redis database and delete the
        temporary files.

        Each step runs even when an earlier one fails, and failures are printed. With
        `keep_logs`, the temporary folder stays so that the server logs can be read.
        """
        for process in reversed(self.processes):
            _run_cleanup_step(f"stop process {process.pid}", stop_process, process)
        for log_file in self.log_files:
            log_file.close()
        if self.django_ready:
            _run_cleanup_step("close the database connections", _close_django_connections)
        if self.postgres_database:
            _run_cleanup_step(
                f"drop database {self.postgres_database}",
                drop_postgres_database,
                self.postgres_database,
            )
        if self.redis_url:
            _run_cleanup_step(f"flush {self.redis_url}", flush_redis, self.redis_url)
        if not keep_logs:
            _run_cleanup_step(f"delete {self.temp_dir}", _remove_tree, self.temp_dir)


def create_environment(prefix="soak-"):
    """Return an Environment with a new temporary folder and nothing else set up yet."""
    return Environment(temp_dir=Path(tempfile.mkdtemp(prefix=prefix)))


def set_up_backends(environment, redis_url=REDIS_URL):
    """Choose the database and the cache, creating the PostgreSQL database for this run.

    PostgreSQL and Redis are used when they accept connections on 127.0.0.1, else a SQLite
    file in the temporary folder and the local-memory cache. `redis_url` names the one Redis
    database that the run uses and flushes.
    """
    if postgres_accepts_connections():
        environment.postgres_database = create_postgres_database()
        environment.database_url = (
            f"postgres://postgres@127.0.0.1:5432/{environment.postgres_database}"
        )
    else:
        environment.database_url = f"sqlite:///{environment.temp_dir / 'soak.sqlite3'}"
    if redis_accepts_connections(redis_url):
        environment.redis_url = redis_url
        # A run stopped by SIGKILL leaves its keys behind, such as a rate-limit cooldown for
        # organisation 1, which would hold back every call of this run.
        flush_redis(redis_url)


def dashboard_environment(
    environment, *, log_level, sandbox_url, settings_module=SETTINGS_MODULE, extra=None
):
    """Return the environment variables of the dashboard's processes, secrets made for this run.

    Meeting pages load the sandbox's stand-in for RealtimeKit's browser SDK, so they show the
    live results section that the soak test's observers read. `extra` adds or replaces
    variables after all the others.
    """
    variables = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(DROPPED_PREFIXES) and name not in DROPPED_NAMES
    }
    variables.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_ENV_FILE": str(environment.temp_dir / "no.env"),
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": environment.database_url,
            "REALTIMEKIT_READ_TIMEOUT": str(READ_TIMEOUT_SECONDS),
            "REALTIMEKIT_SDK_URL": f"{sandbox_url}/sandbox/sdk.js",
            "LOG_LEVEL": log_level,
            "SOAK_STATIC_ROOT": str(environment.temp_dir / "static"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if environment.redis_url:
        variables["REDIS_URL"] = environment.redis_url
    variables.update(extra or {})
    return variables


def postgres_accepts_connections():
    try:
        with psycopg.connect(POSTGRES_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def create_postgres_database():
    name = f"soak_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_DSN, connect_timeout=3, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_postgres_database(name):
    # FORCE (PostgreSQL 13 and newer) ends connections that a stopped worker may have left.
    with psycopg.connect(POSTGRES_ADMIN_DSN, connect_timeout=3, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def redis_accepts_connections(url):
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def flush_redis(url):
    """Delete every key in the one Redis database that `url` names, and no other database."""
    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def set_up_django(variables):
    """Set up Django in this process with the dashboard's settings, to migrate and to inspect."""
    os.environ.update(variables)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import django

    django.setup()


def prepare_database(*, sandbox_url, moderators, password):
    """Migrate, collect the static files, and create the organisation and the moderators.

    Returns the moderators' usernames. The organisation points at the sandbox with its
    published credentials, and its observers join with the sandbox's observer preset.
    """
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from polls.models import Membership, Organisation
    from sandbox import seed

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)

    organisation = Organisation(
        name="Soak test organisation",
        account_id=seed.ACCOUNT_ID,
        app_id=seed.APP_ID,
        api_base_url=f"{sandbox_url}/client/v4",
        observer_preset=OBSERVER_PRESET,
    )
    organisation.api_token = seed.API_TOKEN
    organisation.save()

    usernames = []
    for number in range(1, moderators + 1):
        username = f"moderator{number}"
        user = get_user_model().objects.create_user(username, password=password)
        Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.HOST)
        usernames.append(username)
    return usernames


def start_sandbox(environment):
    """Start `python -m sandbox --port 0` and return its base URL once it listens."""
    log_file = _open_log(environment, "sandbox.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        start_new_session=True,
    )
    environment.processes.append(process)
    # The sandbox prints one line to stdout once it listens, and nothing more there.
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
    line = process.stdout.readline().strip() if ready else ""
    prefix = "Sandbox listening on "
    if not line.startswith(prefix):
        raise SetupError(
            f"The sandbox did not start within {START_TIMEOUT_SECONDS} s (first output line: "
            f"{line!r}). See {log_file.name}."
        )
    return line.removeprefix(prefix)


def start_dashboard(environment, variables, *, server, workers, threads):
    """Start the dashboard on a free loopback port and return its base URL once /healthz is ok.

    `server` is "gunicorn" (gthread workers) or "runserver" (Django's threaded development
    server, one process).
    """
    port = free_port()
    if server == "gunicorn":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "30",
            # The soak's clients keep connections open between requests, as browsers do. With
            # gunicorn's default of 2 s, the server often closes one just as a request is sent.
            "--keep-alive",
            "30",
            "--graceful-timeout",
            str(STOP_TIMEOUT_SECONDS // 2),
            "--error-logfile",
            "-",
        ]
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]

    log_file = _open_log(environment, "dashboard.log")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=variables,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    environment.processes.append(process)

    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process, log_file.name)
    return url


def free_port():
    # NOTE: another program could take the port between this check and the server's bind;
    # the health check then fails with the server's log named.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url, process, log_path):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last_error = "no response yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(
                f"The dashboard exited with status {process.returncode}. See {log_path}."
            )
        try:
            response = requests.get(f"{url}/healthz", timeout=5)
        except requests.RequestException as error:
            last_error = str(error)
        else:
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        time.sleep(0.25)
    raise SetupError(
        f"The dashboard at {url} was not healthy within {START_TIMEOUT_SECONDS} s "
        f"({last_error}). See {log_path}."
    )


def stop_process(process):
    """Send SIGTERM, then SIGKILL to the process group after STOP_TIMEOUT_SECONDS.

    Each server runs in its own session (start_new_session), so its group contains only the
    server and the workers it forked.
    """
    if process.stdout:
        process.stdout.close()
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def resident_memory_mib(process):
    """Return the resident memory of the process and its children in MiB, or None if gone."""
    pids = [process.pid, *_child_pids(process.pid)]
    total_kib = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return round(total_kib / 1024, 1) if total_kib else None


def _child_pids(pid):
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(child) for task in tasks for child in (task / "children").read_text().split()]
    except OSError:
        return []


def _open_log(environment, name):
    log_file = open(environment.temp_dir / name, "w")  # noqa: SIM115 - closed by Environment.close
    environment.log_files.append(log_file)
    return log_file


def _close_django_connections():
    from django.db import connections

    connections.close_all()


def _remove_tree(path):
    import shutil

    shutil.rmtree(path)


def _run_cleanup_step(description, function, *args):
    try:
        function(*args)
    except Exception as error:  # noqa: BLE001 - every cleanup step runs, and each failure is shown
        print(f"Cleanup: could not {description}: {error}", file=sys.stderr)


def run_program(body, *, prefix):
    """Run `body(environment)` in a new Environment, clean up, and return the exit status.

    `body` returns 0 when the run passed and 1 when it failed. A SetupError gives 2 and Ctrl-C
    or SIGTERM 130. After 1 or 2 the servers' logs stay in the temporary folder, and only they.
    """
    # Set explicitly: a shell that starts a program in the background makes it ignore SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    environment = create_environment(prefix=prefix)
    status = 2
    try:
        status = body(environment)
    except SetupError as error:
        print(f"Setup failed: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("Interrupted: stopping the servers and cleaning up.", file=sys.stderr)
        status = 130
    finally:
        # A second Ctrl-C would leave the servers or the database behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        keep_logs = status in (1, 2)
        environment.close(keep_logs=keep_logs)
        if keep_logs:
            _remove_all_but_logs(environment.temp_dir)
            print(f"Logs kept in {environment.temp_dir}", file=sys.stderr)
    return status


def bounded_int(low, high):
    """Return an argparse type for a whole number from `low` to `high`."""

    def parse(text):
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def _remove_all_but_logs(folder):
    if not folder.exists():
        return
    for path in folder.iterdir():
        if path.suffix == ".log":
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
