"""Soak test: moderators use the dashboard against the sandbox while faults are injected.

Starts the sandbox and the dashboard (gunicorn by default) on loopback ports with a fresh
database. Runs moderators, a fault injector, a voter and observers, which forward the sandbox's
poll results to the dashboard as a moderator's browser does, for a bounded time. Then checks for
HTTP 500s, duplicate polls, gaps between the dashboard's database and the sandbox, and votes
that the dashboard did not store, and writes a Markdown report. Exit status: 0 when every check passes, 1 when one fails, 2 when the
run could not be set up, 130 when interrupted. See benchmarks/README.md.

    .venv/bin/python benchmarks/soak.py --seconds 180
"""

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import random
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import django  # noqa: E402

from benchmarks import soak_environment as setup  # noqa: E402
from benchmarks.soak_load import (  # noqa: E402
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    CallBudget,
    Clock,
    FaultInjector,
    LaunchBook,
    Moderator,
    RequestStats,
    SandboxControl,
    Voter,
)
from benchmarks.soak_observers import Observer, ObserverStats  # noqa: E402
from benchmarks.soak_report import Run, check, render, severe_log_records  # noqa: E402

DEFAULT_OUTPUT = PROJECT_ROOT / "benchmarks" / "SOAK.md"
# The sandbox rate-limits a token at 1,200 calls per fixed 300-second window, as Cloudflare
# does. The moderators are paced at 1,000 per window, which leaves room for the retries that
# injected faults cause (see CallBudget). A run shorter than the window may spend the 1,000
# within its own length, because all its calls fall in the first window.
RATE_LIMIT_WINDOW_SECONDS = 300
PACED_CALLS_PER_WINDOW = 1000
PACING_BURST_CALLS = 20
# An injected delay is at most 4 s, after which the sandbox still serves the request, so the
# checks, and the observers' final forwards, wait this long for such a request to land.
SETTLE_SECONDS = 5
PROGRESS_INTERVAL_SECONDS = 30


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="benchmarks/soak.py",
        description="Run moderators against the dashboard and the sandbox while injecting "
        "faults, then check for HTTP 500s, duplicate polls and gaps.",
    )
    parser.add_argument(
        "--seconds",
        type=setup.bounded_int(5, 3600),
        default=180,
        help="length of the load, in seconds",
    )
    parser.add_argument(
        "--moderators",
        type=setup.bounded_int(1, 50),
        default=6,
        help="moderator threads, one login each",
    )
    parser.add_argument(
        "--observers",
        type=setup.bounded_int(1, 10),
        default=3,
        help="observer threads, each with a page on every live meeting that forwards votes",
    )
    parser.add_argument(
        "--server",
        choices=["gunicorn", "runserver"],
        default="gunicorn",
        help="server for the dashboard: gunicorn (needs benchmarks/requirements.txt) or "
        "Django's threaded runserver",
    )
    parser.add_argument(
        "--workers", type=setup.bounded_int(1, 16), default=3, help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=setup.bounded_int(1, 32), default=4, help="threads per gunicorn worker"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the random choices; random by default"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"Markdown report to write (default: {DEFAULT_OUTPUT.relative_to(PROJECT_ROOT)})",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.server == "gunicorn" and importlib.util.find_spec("gunicorn") is None:
        print(
            "gunicorn is not installed in this Python. Install it with "
            "`.venv/bin/pip install -r benchmarks/requirements.txt`, or pass --server runserver.",
            file=sys.stderr,
        )
        return 2

    return setup.run_program(lambda environment: 0 if run(args, environment) else 1, prefix="soak-")


def run(args, environment):
    """Set up, run the load, check and report; return whether every check passed."""
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    run_id = secrets.token_hex(3)
    print(
        f"Soak test: {args.seconds} s, {args.moderators} moderators, {args.observers} observers, "
        f"seed {seed}."
    )

    setup.set_up_backends(environment)
    print(f"Database: {environment.database_description}; cache: {environment.cache_description}.")
    sandbox_url = setup.start_sandbox(environment)
    variables = setup.dashboard_environment(environment, log_level="INFO", sandbox_url=sandbox_url)
    setup.set_up_django({**variables, "LOG_LEVEL": "WARNING"})
    environment.django_ready = True
    password = secrets.token_urlsafe(16)
    usernames = setup.prepare_database(
        sandbox_url=sandbox_url, moderators=args.moderators, password=password
    )
    dashboard_url = setup.start_dashboard(
        environment, variables, server=args.server, workers=args.workers, threads=args.threads
    )
    dashboard = environment.processes[-1]
    log_path = environment.temp_dir / "dashboard.log"
    print(f"Sandbox: {sandbox_url}; dashboard: {dashboard_url}; dashboard log: {log_path}.")

    memory_start = setup.resident_memory_mib(dashboard)
    clock = Clock(args.seconds)
    stats = RequestStats()
    launches = LaunchBook(run_id)
    budget = _call_budget(args, clock)
    load = Load(
        args=args,
        seed=seed,
        clock=clock,
        stats=stats,
        budget=budget,
        usernames=usernames,
        password=password,
        sandbox_url=sandbox_url,
        dashboard_url=dashboard_url,
    )
    injector, voter, threads = _start_load(load, run_id, launches)
    observer_stats = ObserverStats()
    observers = _start_observers(load, observer_stats)
    try:
        _wait_with_progress(clock, stats, launches)
    finally:
        clock.stop()
    for thread in [*threads, *observers]:
        thread.join(CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + 5)
    seconds = time.monotonic() - clock.started
    for thread in [*threads, *observers]:
        if thread.is_alive():
            stats.soak_errors.append(f"thread {thread.name} was still running after the run")

    time.sleep(SETTLE_SECONDS)
    print("Load ended; each observer page sends its final forward.", flush=True)
    for observer in observers:
        observer.forward_final()
    memory_end = setup.resident_memory_mib(dashboard)
    control = SandboxControl(sandbox_url)
    fault_hits = {
        fault["id"]: fault["matched"] for fault in control.json("GET", "/faults")["faults"]
    }
    control.request("DELETE", "/faults").raise_for_status()
    meetings = control.json("GET", "/meetings")["meetings"]
    upstream_requests = control.json("GET", "/requests")["requests"]
    setup.stop_process(dashboard)

    request_records, soak_errors = stats.snapshot()
    result = Run(
        seconds=seconds,
        planned_seconds=args.seconds,
        moderators=args.moderators,
        observers=args.observers,
        server=args.server,
        workers=args.workers,
        threads=args.threads,
        seed=seed,
        machine=_describe_machine(args.server),
        database="PostgreSQL" if environment.postgres_database else "SQLite",
        cache="Redis" if environment.redis_url else "local-memory cache",
        request_records=request_records,
        soak_errors=soak_errors,
        launches=launches.snapshot(),
        faults_injected=injector.injected,
        faults_rejected=injector.rejected,
        fault_hits=fault_hits,
        votes_accepted=voter.accepted,
        repeat_votes_rejected=voter.repeats_rejected,
        repeat_votes_accepted=voter.repeats_accepted,
        other_vote_statuses=voter.other_statuses,
        question_prefix=launches.question_prefix,
        upstream_polls=[
            {**poll, "meeting_id": meeting["id"]}
            for meeting in meetings
            for poll in meeting["polls"]
        ],
        upstream_requests=upstream_requests,
        dashboard_polls=_dashboard_polls(),
        dashboard_counts=_dashboard_counts(),
        observer_stats=observer_stats.snapshot(),
        memory_start_mib=memory_start,
        memory_end_mib=memory_end,
        server_log=str(log_path),
    )
    checks = check(result)
    report = render(result, checks, log_path=log_path)
    print()
    print(report)
    args.output.write_text(report)
    print(f"Report written to {args.output}.")

    _print_log_records(log_path, has_500s=bool(checks.server_errors))
    return checks.passed


def _call_budget(args, clock):
    return CallBudget(
        calls_per_window=PACED_CALLS_PER_WINDOW,
        window_seconds=min(args.seconds, RATE_LIMIT_WINDOW_SECONDS),
        burst=PACING_BURST_CALLS,
        clock=clock,
    )


@dataclass(frozen=True)
class Load:
    """What every thread of the load shares: the options, the seed of its random choices, the
    run's clock, statistics and call budget, the moderators' logins and the two servers."""

    args: argparse.Namespace
    seed: int
    clock: Clock
    stats: RequestStats
    budget: CallBudget
    usernames: list
    password: str
    sandbox_url: str
    dashboard_url: str


def _start_load(load, run_id, launches):
    from sandbox import seed as sandbox_seed

    active_meetings = [
        meeting.id for meeting in sandbox_seed.MEETINGS if meeting.status == "ACTIVE"
    ]
    moderators = [
        Moderator(
            username=username,
            password=load.password,
            base_url=load.dashboard_url,
            clock=load.clock,
            stats=load.stats,
            budget=load.budget,
            launches=launches,
            rng=_seeded_random(load.seed + number),
            meeting_ids=active_meetings,
        )
        for number, username in enumerate(load.usernames, start=1)
    ]
    injector = FaultInjector(
        control=SandboxControl(load.sandbox_url),
        clock=load.clock,
        rng=_seeded_random(load.seed - 1),
        stats=load.stats,
    )
    voter = Voter(
        control=SandboxControl(load.sandbox_url),
        clock=load.clock,
        rng=_seeded_random(load.seed - 2),
        stats=load.stats,
        question_prefix=launches.question_prefix,
        run_id=run_id,
    )
    threads = [*moderators, injector, voter]
    for thread in threads:
        thread.start()
    return injector, voter, threads


def _start_observers(load, observer_stats):
    """Start the observers, each with a page on every meeting that has a live session."""
    meetings = SandboxControl(load.sandbox_url).json("GET", "/meetings")["meetings"]
    live_meetings = [meeting["id"] for meeting in meetings if meeting["session"]]
    observers = [
        Observer(
            name=f"observer {number}",
            username=username,
            password=load.password,
            base_url=load.dashboard_url,
            meeting_ids=live_meetings,
            clock=load.clock,
            budget=load.budget,
            request_stats=load.stats,
            stats=observer_stats,
            rng=_seeded_random(load.seed + 1000 + number),
            injects_join_failures=second_browser,
        )
        for number, (username, second_browser) in enumerate(
            _observer_logins(load.usernames, load.args.observers), start=1
        )
    ]
    for observer in observers:
        observer.start()
    return observers


def _observer_logins(usernames, count):
    """Return each observer's username, and whether it is a second browser of an earlier one.

    From three observers on, the last one logs in as the first one's moderator, so two
    browsers share one observer participant per meeting and its token.
    """
    logins = [usernames[index % len(usernames)] for index in range(count)]
    if count >= 3:
        logins[-1] = logins[0]
    return [(username, username in logins[:index]) for index, username in enumerate(logins)]


def _seeded_random(seed):
    """Return a generator for the load's random choices, repeatable by seed; not for secrets."""
    return random.Random(seed)  # noqa: S311


def _wait_with_progress(clock, stats, launches):
    while clock.pause(PROGRESS_INTERVAL_SECONDS):
        request_records, _ = stats.snapshot()
        errors = sum(1 for request in request_records if request.status == 500)
        syncs = sum(1 for request in request_records if request.kind == "sync")
        elapsed = time.monotonic() - clock.started
        print(
            f"  {elapsed:4.0f} s: {len(request_records)} dashboard requests, "
            f"{len(launches.snapshot())} launches, {syncs} sync posts, {errors} HTTP 500",
            flush=True,
        )


def _describe_machine(server):
    from django.db import connection

    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    parts = [
        f"{os.cpu_count()} cores",
        f"{memory_kib / 1024 / 1024:.0f} GiB of memory",
        f"Python {platform.python_version()}",
        f"Django {django.get_version()}",
    ]
    if server == "gunicorn":
        parts.append(f"gunicorn {importlib.metadata.version('gunicorn')}")
    if connection.vendor == "postgresql":
        version = connection.pg_version
        parts.append(f"PostgreSQL {version // 10000}.{version % 10000}")
    return ", ".join(parts)


def _dashboard_polls():
    from polls.models import Poll

    fields = ("pk", "launch_key", "status", "upstream_id", "question", "meeting_id")
    return list(Poll.objects.values(*fields))


def _dashboard_counts():
    """Return each stored poll with an upstream id as {upstream_id: {pk, total_votes, counts}},
    with the options' counts in the order of their positions."""
    from polls.models import Poll

    polls = Poll.objects.exclude(upstream_id="").prefetch_related("options")
    return {
        poll.upstream_id: {
            "pk": poll.pk,
            "total_votes": poll.total_votes,
            # PollOption's default ordering is by position, also when prefetched.
            "counts": [option.count for option in poll.options.all()],
        }
        for poll in polls
    }


def _print_log_records(log_path, *, has_500s):
    lines, truncated = severe_log_records(log_path.read_text(errors="replace"))
    if not lines and not has_500s:
        return
    print(f"\nDashboard log records about a 500, from {log_path}:")
    print("\n".join(lines) if lines else "(none: the log has no record of them)")
    if truncated:
        print(f"(cut short; the whole log is {log_path})")


if __name__ == "__main__":
    sys.exit(main())
