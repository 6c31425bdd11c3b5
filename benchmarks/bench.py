"""Benchmark: the dashboard's costs at webinar scale, measured against the performance targets.

Starts the sandbox with a delay on every Cloudflare API request, the dashboard under gunicorn,
and PostgreSQL and Redis when they accept connections (else SQLite and the local-memory cache). Then drives
simulated moderators, observers and voters through these phases, each at several scales:

1. upstream calls of moderators refreshing the meeting list, its badges and a meeting page;
2. live results fragments when nothing changed, and a bare view returning a constant;
3. live results fragments after a change;
4. forwarded updates, one at a time and from many forwarders at once;
5. votes cast in the sandbox, timed until a real Chromium page shows them;
6. the meeting page's transfer with its static files.

Prints the target table and writes it with the scaling tables to benchmarks/RESULTS.md.
Exit status: 0 when the run completed, 1 when a request failed or a bench thread raised, 2
when the run could not be set up, 130 when interrupted. See benchmarks/README.md.

    .venv/bin/python benchmarks/bench.py
"""

import argparse
import importlib.metadata
import itertools
import os
import platform
import random
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import bench_phases as phases  # noqa: E402
from benchmarks import soak_environment as setup  # noqa: E402
from benchmarks.bench_report import Results, render, target_rows  # noqa: E402
from benchmarks.soak_load import SandboxControl  # noqa: E402

DEFAULT_OUTPUT = PROJECT_ROOT / "benchmarks" / "RESULTS.md"
# Database 14 is the soak test's, so the two can run at the same time.
REDIS_URL = "redis://127.0.0.1:6379/13"
SETTINGS_MODULE = "benchmarks.bench_settings"
MODERATOR_SCALES = (1, 10, 50)
VOTE_SCALES = (100, 1_000, 10_000)
FORWARDER_SCALES = (1, 10, 20)
CHANGED_MODERATORS = 10
SINGLE_UPDATES = 20
FORWARD_VOTES = 10_000
POLL_OPTIONS = 12


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py",
        description="Measure the dashboard against its performance targets and write "
        "benchmarks/RESULTS.md.",
    )
    parser.add_argument(
        "--phase-seconds",
        type=setup.bounded_int(5, 120),
        default=20,
        help="length of each timed phase at each scale, in seconds (default 20)",
    )
    parser.add_argument(
        "--delay-ms",
        type=setup.bounded_int(0, 2000),
        default=100,
        help="delay the sandbox adds to every Cloudflare API request, in ms (default 100)",
    )
    parser.add_argument(
        "--fresh-seconds",
        type=setup.bounded_int(1, 300),
        default=10,
        help="REALTIMEKIT_READ_FRESH_SECONDS of the served dashboard (default 10)",
    )
    parser.add_argument(
        "--workers", type=setup.bounded_int(1, 16), default=4, help="gunicorn workers"
    )
    parser.add_argument(
        "--threads", type=setup.bounded_int(1, 32), default=8, help="threads per gunicorn worker"
    )
    parser.add_argument(
        "--browser-votes",
        type=setup.bounded_int(0, 200),
        default=20,
        help="votes timed in Chromium, one at a time; 0 skips the browser (default 20)",
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
    return setup.run_program(
        lambda environment: 1 if run(args, environment).errors() else 0, prefix="bench-"
    )


def run(args, environment):
    started = time.monotonic()
    setup.set_up_backends(environment, redis_url=REDIS_URL)
    sandbox_url = setup.start_sandbox(environment)
    sandbox = SandboxControl(sandbox_url)
    _delay_upstream(sandbox, args.delay_ms)
    variables = setup.dashboard_environment(
        environment,
        log_level="WARNING",
        sandbox_url=sandbox_url,
        settings_module=SETTINGS_MODULE,
        extra={"REALTIMEKIT_READ_FRESH_SECONDS": str(args.fresh_seconds)},
    )
    setup.set_up_django(variables)
    environment.django_ready = True
    password = secrets.token_urlsafe(16)
    users = _create_moderators(sandbox_url, password, max(MODERATOR_SCALES) + 1)
    dashboard_url = setup.start_dashboard(
        environment, variables, server="gunicorn", workers=args.workers, threads=args.threads
    )
    print(
        f"Benchmark: {environment.database_description}; {environment.cache_description}; "
        f"sandbox {sandbox_url} with {args.delay_ms} ms per API request; dashboard "
        f"{dashboard_url}, {args.workers} gunicorn workers of {args.threads} threads; "
        f"REALTIMEKIT_READ_FRESH_SECONDS={args.fresh_seconds}.",
        flush=True,
    )

    context = _context(args, environment, sandbox, dashboard_url, variables, users)
    results = Results(setup=_describe_setup(args, environment))
    _run_phases(args, context, results, sandbox_url, users[0].get_username(), password)
    results.seconds = time.monotonic() - started

    report = render(results)
    args.output.write_text(report)
    _print_summary(results)
    print(f"Report written to {args.output} ({results.seconds:.0f} s in all).")
    return results


def _run_phases(args, context, results, sandbox_url, username, password):
    seconds = args.phase_seconds
    for moderators in MODERATOR_SCALES:
        _announce(f"upstream calls, {moderators} moderators, {seconds} s")
        results.upstream[moderators] = phases.measure_upstream(context, moderators, seconds)
    context.reset_upstream()
    meetings = context.live_meetings

    watched = phases.ForwardedPoll(context, meetings[0], "Bench: unchanged results", 4)
    phases.measure_single_forwards(context, watched, 40, 0)
    for moderators in MODERATOR_SCALES:
        _announce(f"live fragment, nothing changed, {moderators} moderators, {seconds} s")
        results.unchanged[moderators] = phases.measure_fragments(
            context, moderators, seconds, watched
        )

    for votes in VOTE_SCALES:
        _announce(f"live fragment after a change, {votes:,} votes, {seconds} s")
        poll = phases.ForwardedPoll(context, meetings[0], f"Bench: {votes} votes", POLL_OPTIONS)
        phases.measure_single_forwards(context, poll, votes, 0)
        results.changed[votes] = phases.measure_fragments(
            context, CHANGED_MODERATORS, seconds, poll, changer_total=votes
        )

    for votes in VOTE_SCALES:
        _announce(f"forwarded updates one at a time, {votes:,} votes")
        poll = phases.ForwardedPoll(context, meetings[1], f"Bench: forward {votes}", POLL_OPTIONS)
        results.single_forwards[votes] = phases.measure_single_forwards(
            context, poll, votes, SINGLE_UPDATES
        )
    for forwarders in FORWARDER_SCALES:
        _announce(f"{forwarders} forwarders, {FORWARD_VOTES:,} votes, {seconds} s")
        poll = phases.ForwardedPoll(
            context, meetings[1], f"Bench: {forwarders} forwarders", POLL_OPTIONS
        )
        results.forward_loads[forwarders] = phases.measure_forward_load(
            context, poll, FORWARD_VOTES, forwarders, seconds
        )

    if args.browser_votes:
        _announce(f"browser, {args.browser_votes} votes")
        results.browser = _measure_browser(
            context, sandbox_url, meetings[2], username, password, args.browser_votes
        )
    _announce("meeting page transfer")
    results.transfer = phases.measure_transfer(
        context, meetings[3], f"{sandbox_url}/sandbox/sdk.js"
    )


def _measure_browser(context, sandbox_url, meeting_id, username, password, votes):
    from benchmarks.bench_browser import measure_browser

    # Playwright's sync API runs an event loop in this thread, after which Django refuses ORM
    # calls here. The browser phase makes none, and the phases after it only use HTTP.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return measure_browser(
        dashboard_url=context.dashboard_url,
        sandbox=context.sandbox,
        meeting_id=meeting_id,
        username=username,
        password=password,
        votes=votes,
    )


def _delay_upstream(sandbox, delay_ms):
    if delay_ms:
        sandbox.request("POST", "/faults", json={"path": ".", "delay_ms": delay_ms})


def _create_moderators(sandbox_url, password, count):
    """Create the organisation and `count` moderators that share one password hash.

    Hashing once keeps setup short: each hash takes a large fraction of a second on purpose.
    """
    from django.contrib.auth import get_user_model

    from polls.models import Membership

    (first,) = setup.prepare_database(sandbox_url=sandbox_url, moderators=1, password=password)
    model = get_user_model()
    user = model.objects.get(username=first)
    membership = user.membership
    others = model.objects.bulk_create(
        model(username=f"moderator{number}", password=user.password)
        for number in range(2, count + 1)
    )
    Membership.objects.bulk_create(
        Membership(user=other, organisation=membership.organisation, role=membership.role)
        for other in others
    )
    return [user, *others]


def _context(args, environment, sandbox, dashboard_url, variables, users):
    from django.conf import settings

    from polls.models import Poll
    from sandbox import seed

    rotation = itertools.cycle(users)

    def new_sessions(count):
        return [_session_key(next(rotation)) for _ in range(count)]

    def reset_upstream():
        sandbox.request("POST", "/reset").raise_for_status()
        _delay_upstream(sandbox, args.delay_ms)
        _clear_cache(environment, variables, args)

    def poll_pk(upstream_id):
        return Poll.objects.get(upstream_id=upstream_id).pk

    context = phases.Context(
        dashboard_url=dashboard_url,
        sandbox=sandbox,
        session_cookie_name=settings.SESSION_COOKIE_NAME,
        new_sessions=new_sessions,
        reset_upstream=reset_upstream,
        poll_pk=poll_pk,
        live_meetings=[m.id for m in seed.MEETINGS if m.status == "ACTIVE"][:4],
        fresh_seconds=args.fresh_seconds,
        rng=random.Random(),  # noqa: S311 - load timing, not secrets
    )
    return context


def _session_key(user):
    """Log `user` in by writing a session as the login view would, without a password check."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # Django only accepts a session whose backend is one of AUTHENTICATION_BACKENDS.
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _clear_cache(environment, variables, args):
    """Empty the dashboard's cache, so a rate-limit pause from one phase ends with it.

    Without Redis each gunicorn worker keeps its own local-memory cache, so the dashboard is
    restarted instead.
    """
    if environment.redis_url:
        setup.flush_redis(environment.redis_url)
        return
    dashboard = environment.processes.pop()
    setup.stop_process(dashboard)
    setup.start_dashboard(
        environment, variables, server="gunicorn", workers=args.workers, threads=args.threads
    )


def _describe_setup(args, environment):
    from django.db import connection

    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    machine = [
        f"{os.cpu_count()} cores",
        f"{memory_kib / 1024 / 1024:.0f} GiB of memory",
        f"Python {platform.python_version()}",
        f"Django {importlib.metadata.version('django')}",
        f"gunicorn {importlib.metadata.version('gunicorn')}",
    ]
    if connection.vendor == "postgresql":
        version = connection.pg_version
        machine.append(f"PostgreSQL {version // 10000}.{version % 10000}")
    return {
        "command": f"benchmarks/bench.py --phase-seconds {args.phase_seconds}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": ", ".join(machine),
        "workers": args.workers,
        "threads": args.threads,
        "database": "PostgreSQL" if environment.postgres_database else "SQLite",
        "cache": "Redis" if environment.redis_url else "local-memory cache",
        "delay_ms": args.delay_ms,
        "fresh_seconds": args.fresh_seconds,
    }


def _print_summary(results):
    print()
    for row in target_rows(results):
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[row.met]
        print(f"[{verdict}] {row.what}: {row.measured} (target {row.target}; ratio {row.ratio})")
    errors = results.errors()
    if errors:
        print(f"{len(errors)} errors; the first: {errors[0]}")


def _announce(text):
    print(f"  {time.strftime('%H:%M:%S')} {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
