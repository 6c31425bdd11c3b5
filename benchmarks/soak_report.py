"""The checks at the end of a soak run and the Markdown report of its numbers."""

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from benchmarks.soak_load import OUTCOMES, UNCONFIRMED

# A record in the dashboard's log starts with Django's "%(asctime)s %(levelname)s" or with
# gunicorn's "[time] [pid] [LEVEL]". The lines after it, up to the next record, belong to it.
RECORD_START = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) |\[[^\]]+\] \[\d+\] \[(?P<bracketed>[A-Z]+)\])"
)
SEVERE_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
MAX_LOG_LINES_SHOWN = 200
MAX_ITEMS_SHOWN = 20
SYNC_KINDS = ("sync", "sync (final)")


@dataclass
class Run:
    """The measurements and final state of one soak run, gathered by soak.py at its end."""

    seconds: float
    planned_seconds: int
    moderators: int
    observers: int
    server: str
    workers: int
    threads: int
    seed: int
    machine: str
    database: str
    cache: str
    request_records: list
    soak_errors: list
    launches: list
    faults_injected: list
    faults_rejected: list
    fault_hits: dict
    votes_accepted: int
    repeat_votes_rejected: int
    repeat_votes_accepted: int
    other_vote_statuses: Counter
    question_prefix: str
    upstream_polls: list
    upstream_requests: list
    dashboard_polls: list
    # {upstream_id: {"pk", "total_votes", "counts"}}, counts in the order of option positions.
    dashboard_counts: dict
    # ObserverStats.snapshot(): "events", "sdk_statuses" and "rejected_syncs".
    observer_stats: dict
    memory_start_mib: float | None
    memory_end_mib: float | None
    server_log: str


@dataclass
class Checks:
    """The conditions of a passing run, each with the items that broke it."""

    soak_errors: list = field(default_factory=list)
    server_errors: list = field(default_factory=list)
    no_responses: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    launched_not_upstream: list = field(default_factory=list)
    upstream_unexplained: list = field(default_factory=list)
    stuck_launching: list = field(default_factory=list)
    upstream_unconfirmed: list = field(default_factory=list)
    unconfirmed_not_shown: list = field(default_factory=list)
    vote_gaps: list = field(default_factory=list)
    unrecorded_polls: list = field(default_factory=list)
    inconsistent_totals: list = field(default_factory=list)
    stored_twice: list = field(default_factory=list)

    @property
    def gaps(self):
        return self.launched_not_upstream + self.upstream_unexplained + self.stuck_launching

    @property
    def lost_votes(self):
        return sum(gap.lost for gap in self.vote_gaps)

    @property
    def extra_votes(self):
        return sum(gap.extra for gap in self.vote_gaps)

    @property
    def more_votes(self):
        """The sandbox polls whose dashboard poll has more votes in all."""
        return [gap for gap in self.vote_gaps if gap.stored_total > gap.upstream_total]

    @property
    def passed(self):
        return not (
            self.soak_errors
            or self.server_errors
            or self.no_responses
            or self.duplicates
            or self.gaps
            or self.vote_gaps
            or self.inconsistent_totals
            or self.stored_twice
        )


@dataclass
class VoteGap:
    """A sandbox poll whose counts differ from the dashboard's, option by option."""

    poll: dict
    stored: dict | None
    lost: int
    extra: int

    @property
    def upstream_total(self):
        return sum(option["count"] for option in self.poll["options"])

    @property
    def stored_total(self):
        return sum(self.stored["counts"]) if self.stored else 0


def check(run):
    """Compare the dashboard's responses and database with the sandbox's polls."""
    checks = Checks(soak_errors=list(run.soak_errors))
    checks.server_errors = [request for request in run.request_records if request.status == 500]
    checks.no_responses = [
        request for request in run.request_records if request.status is None and not request.resent
    ]

    ours = [poll for poll in run.upstream_polls if poll["question"].startswith(run.question_prefix)]
    upstream_by_question = {}
    for poll in ours:
        upstream_by_question.setdefault(poll["question"], []).append(poll)
    checks.duplicates = [
        (record, upstream_by_question[record.question])
        for record in run.launches
        if len(upstream_by_question.get(record.question, [])) >= 2
    ]

    upstream_by_id = {poll["id"]: poll for poll in ours}
    launched = [poll for poll in run.dashboard_polls if poll["status"] == "launched"]
    checks.launched_not_upstream = [
        poll
        for poll in launched
        if poll["upstream_id"] not in upstream_by_id
        or upstream_by_id[poll["upstream_id"]]["question"] != poll["question"]
        or upstream_by_id[poll["upstream_id"]]["meeting_id"] != poll["meeting_id"]
    ]

    known_ids = {poll["upstream_id"] for poll in launched}
    dashboard_by_question = {poll["question"]: poll for poll in run.dashboard_polls}
    for poll in ours:
        if poll["id"] in known_ids:
            continue
        stored = dashboard_by_question.get(poll["question"])
        if stored and stored["status"] == "unconfirmed":
            checks.upstream_unconfirmed.append(poll)
        else:
            checks.upstream_unexplained.append((poll, stored))
    checks.stuck_launching = [poll for poll in run.dashboard_polls if poll["status"] == "launching"]

    # A launch the dashboard stored as unconfirmed, while no response showed it as unconfirmed.
    status_by_key = {str(poll["launch_key"]): poll["status"] for poll in run.dashboard_polls}
    checks.unconfirmed_not_shown = [
        record
        for record in run.launches
        if status_by_key.get(record.launch_key) == "unconfirmed" and record.outcome != UNCONFIRMED
    ]
    _check_dashboard_votes(run, ours, checks)
    return checks


def _check_dashboard_votes(run, ours, checks):
    """Compare the sandbox's counts with the ones the observers made the dashboard store."""
    for poll in ours:
        stored = run.dashboard_counts.get(poll["id"])
        if stored is None:
            checks.unrecorded_polls.append(poll)
        gap = _vote_gap(poll, stored)
        if gap.lost or gap.extra:
            checks.vote_gaps.append(gap)
        if stored and stored["total_votes"] != sum(stored["counts"]):
            checks.inconsistent_totals.append((poll, stored))

    # Each launch has its own question, so two dashboard polls with one question are one
    # sandbox poll stored twice, such as an observed copy beside its launch.
    by_question = {}
    for poll in run.dashboard_polls:
        if poll["question"].startswith(run.question_prefix):
            by_question.setdefault(poll["question"], []).append(poll)
    checks.stored_twice = [polls for polls in by_question.values() if len(polls) > 1]


def _vote_gap(poll, stored):
    counts = stored["counts"] if stored else []
    lost = extra = 0
    for position, option in enumerate(poll["options"]):
        stored_count = counts[position] if position < len(counts) else 0
        lost += max(0, option["count"] - stored_count)
        extra += max(0, stored_count - option["count"])
    extra += sum(counts[len(poll["options"]) :])
    return VoteGap(poll=poll, stored=stored, lost=lost, extra=extra)


def render(run, checks, *, log_path):
    """Return the report as Markdown."""
    lines = [
        "# Soak test result",
        "",
        f"Generated by `benchmarks/soak.py --seconds {run.planned_seconds} --moderators "
        f"{run.moderators} --observers {run.observers} --seed {run.seed}` on "
        f"{date.today().isoformat()}. Machine: "
        f"{run.machine}. Dashboard served by {_server_description(run)}; {run.database}; "
        f"{run.cache}. See benchmarks/README.md for what each number means.",
        "",
        f"**Result: {'passed' if checks.passed else 'FAILED'}.** {_verdict(checks)}",
        "",
        "## Summary",
        "",
        *_table(["measure", "value"], _summary_rows(run, checks)),
        "",
        "Votes go from the voter thread to the sandbox's control API. The lost votes on the "
        "sandbox path compare the votes it accepted with its own counts. The observers forward "
        "the counts to the dashboard as a moderator's browser does, and each observer page sends "
        "one final forward after the load. The lost votes on the dashboard path then compare "
        "the sandbox's counts with the ones the dashboard stored, option by option.",
        "",
        "## Observers",
        "",
        *_table(["measure", "value"], _observer_rows(run)),
        "",
        "## Dashboard requests by kind",
        "",
        *_table(
            [
                "kind",
                "requests",
                "2xx",
                "3xx",
                "4xx",
                "5xx",
                "no response",
                "statuses",
                "median ms",
                "p95 ms",
                "max ms",
            ],
            _kind_rows(run.request_records),
        ),
        "",
        "## Launches by outcome",
        "",
        *_table(
            ["outcome", "sent once", "twice in a row", "twice at once", "all"],
            _outcome_rows(run.launches),
        ),
        "",
        "## Faults injected",
        "",
        *_table(
            [
                "fault",
                "meeting list",
                "one meeting",
                "active session",
                "poll create",
                "requests hit",
            ],
            _fault_rows(run),
        ),
        "",
    ]
    lines += _details(run, checks, log_path)
    return "\n".join(lines) + "\n"


def severe_log_records(log_text, *, limit=MAX_LOG_LINES_SHOWN):
    """Return the lines of the dashboard log's records at WARNING or above about a 500.

    Those are Django's "Internal Server Error" records, with their tracebacks, and gunicorn's
    own errors, such as a worker that timed out.
    """
    records, current, level = [], [], None
    for line in log_text.splitlines():
        start = RECORD_START.match(line)
        if start:
            if current and level in SEVERE_LEVELS and _mentions_a_500(current, level):
                records.append(current)
            current, level = [line], start.group("level") or start.group("bracketed")
        elif current:
            current.append(line)
    if current and level in SEVERE_LEVELS and _mentions_a_500(current, level):
        records.append(current)

    lines = [line for record in records for line in record]
    return lines[:limit], len(lines) > limit


def _mentions_a_500(record, level):
    if any("Internal Server Error" in line for line in record):
        return True
    # gunicorn's own errors, such as a worker timeout, which ends a request without a response.
    return record[0].startswith("[") and level in ("ERROR", "CRITICAL")


def _server_description(run):
    if run.server == "gunicorn":
        return f"gunicorn, {run.workers} gthread workers × {run.threads} threads"
    return "Django's runserver with threads (one process)"


def _verdict(checks):
    if checks.passed:
        return (
            "No HTTP 500, no request without a response, no duplicate poll, no unexplained gap, "
            "no lost vote on the dashboard path."
        )
    parts = []
    if checks.server_errors:
        parts.append(f"{len(checks.server_errors)} HTTP 500 responses")
    if checks.no_responses:
        parts.append(f"{len(checks.no_responses)} requests without a response")
    if checks.duplicates:
        parts.append(f"{len(checks.duplicates)} launch keys with duplicate polls")
    if checks.gaps:
        parts.append(f"{len(checks.gaps)} unexplained gaps between the dashboard and the sandbox")
    if checks.vote_gaps:
        parts.append(
            f"{checks.lost_votes} lost and {checks.extra_votes} extra votes on the dashboard path "
            f"in {len(checks.vote_gaps)} polls"
        )
    if checks.inconsistent_totals:
        parts.append(
            f"{len(checks.inconsistent_totals)} dashboard polls whose total differs from their options"
        )
    if checks.stored_twice:
        parts.append(f"{len(checks.stored_twice)} questions stored in 2 or more dashboard polls")
    if checks.soak_errors:
        parts.append(f"{len(checks.soak_errors)} errors in the soak test's own code")
    return "Found " + ", ".join(parts) + "."


def _summary_rows(run, checks):
    by_class = Counter(_status_class(request) for request in run.request_records)
    launches = Counter(record.outcome for record in run.launches)
    upstream = Counter(poll["status"] for poll in run.dashboard_polls)
    votes_counted = sum(
        option["count"]
        for poll in run.upstream_polls
        if poll["question"].startswith(run.question_prefix)
        for option in poll["options"]
    )
    api_requests = run.upstream_requests
    rate_limited = sum(1 for entry in api_requests if entry["status"] == 429 and not entry["fault"])
    double_pks = [record for record in run.launches if len(record.poll_pks) > 1]

    return [
        ("duration", f"{run.seconds:.0f} s (planned {run.planned_seconds} s)"),
        ("moderators", run.moderators),
        ("dashboard requests", len(run.request_records)),
        (
            "… 2xx / 3xx / 4xx / 5xx",
            " / ".join(str(by_class[name]) for name in ("2xx", "3xx", "4xx", "5xx")),
        ),
        ("… without a response (timeout or broken connection)", by_class["no response"]),
        (
            "… sent again, as a browser does, after the server closed a kept-alive connection",
            by_class["resent"],
        ),
        ("**HTTP 500 responses**", f"**{len(checks.server_errors)}**"),
        (
            "faults injected (requests they hit)",
            f"{len(run.faults_injected)} ({sum(run.fault_hits.values())})",
        ),
        ("Cloudflare API requests the sandbox received", _capped(len(api_requests))),
        ("… served by an injected fault", sum(1 for entry in api_requests if entry["fault"])),
        ("… rate-limited by the sandbox (429 not injected)", rate_limited),
        ("launches attempted (launch keys)", len(run.launches)),
        ("… confirmed", launches["confirmed"]),
        ("… unconfirmed", launches["unconfirmed"]),
        ("… other outcomes", len(run.launches) - launches["confirmed"] - launches["unconfirmed"]),
        ("forms sent twice (in a row / at once)", _sent_twice(run.launches)),
        ("**launch keys with 2 or more polls in the sandbox**", f"**{len(checks.duplicates)}**"),
        ("launch keys whose responses showed two different dashboard polls", len(double_pks)),
        (
            "dashboard polls: launched / unconfirmed / launching",
            " / ".join(str(upstream[name]) for name in ("launched", "unconfirmed", "launching")),
        ),
        (
            "sandbox polls of this run",
            sum(
                1 for poll in run.upstream_polls if poll["question"].startswith(run.question_prefix)
            ),
        ),
        (
            "… unknown to the dashboard, explained by an unconfirmed launch",
            len(checks.upstream_unconfirmed),
        ),
        ("**unexplained gaps**", f"**{len(checks.gaps)}**"),
        (
            "… launched in the dashboard, missing or different in the sandbox",
            len(checks.launched_not_upstream),
        ),
        (
            "… in the sandbox, unknown to the dashboard and not unconfirmed",
            len(checks.upstream_unexplained),
        ),
        ("… still launching in the dashboard after the run", len(checks.stuck_launching)),
        (
            "unconfirmed in the dashboard, but not shown as unconfirmed to the moderator",
            len(checks.unconfirmed_not_shown),
        ),
        ("votes accepted by the sandbox", run.votes_accepted),
        ("votes counted in the sandbox's polls", votes_counted),
        (
            "lost votes on the sandbox path (accepted minus counted)",
            run.votes_accepted - votes_counted,
        ),
        ("vote requests with another status", _statuses(run.other_vote_statuses)),
        (
            "repeat votes rejected / accepted",
            f"{run.repeat_votes_rejected} / {run.repeat_votes_accepted}",
        ),
        *_dashboard_vote_rows(run, checks),
        ("dashboard memory, all processes (start → end)", _memory(run)),
        ("errors in the soak test's own code", len(run.soak_errors)),
    ]


def _dashboard_vote_rows(run, checks):
    ours = {
        poll["id"]
        for poll in run.upstream_polls
        if poll["question"].startswith(run.question_prefix)
    }
    stored_votes = sum(
        sum(stored["counts"])
        for upstream_id, stored in run.dashboard_counts.items()
        if upstream_id in ours
    )
    return [
        ("votes stored by the dashboard for this run's sandbox polls", stored_votes),
        (
            "**lost votes on the dashboard path** (sandbox minus stored, by option)",
            f"**{checks.lost_votes}**",
        ),
        ("… votes stored above the sandbox's count, by option", checks.extra_votes),
        ("… dashboard polls with more votes than the sandbox", len(checks.more_votes)),
        (
            "… sandbox polls of this run with no dashboard poll for their id",
            len(checks.unrecorded_polls),
        ),
        (
            "dashboard polls whose total differs from the sum of their options",
            len(checks.inconsistent_totals),
        ),
        ("**questions stored in 2 or more dashboard polls**", f"**{len(checks.stored_twice)}**"),
    ]


def _observer_rows(run):
    events = run.observer_stats["events"]
    syncs = [request for request in run.request_records if request.kind in SYNC_KINDS]
    during_load = [request for request in syncs if request.kind == "sync"]
    timings = sorted(request.seconds * 1000 for request in syncs)
    tokens = [request for request in run.request_records if request.kind == "observer token"]
    pages_without = sum(
        count for event, count in events.items() if event.startswith("page without live results")
    )
    return [
        ("observers (pages, one per live meeting each)", _observer_pages(run)),
        (
            "observer meeting pages with / without live results",
            f"{events['page with live results']} / {pages_without}",
        ),
        ("… without live results, by reason", _events(events, "page without live results: ")),
        ("observer token requests", f"{len(tokens)} ({_status_counts(tokens)})"),
        ("… with refresh=1", events["token requests with refresh=1"]),
        ("joins", events["joined"]),
        ("… failed, by reason", _events(events, "join failed: ")),
        ("… failed on purpose (second browser of a moderator)", events["join failures injected"]),
        ("long-polls ended by an error, by reason", _events(events, "disconnected: ")),
        ("pages stopped until a reload, by reason", _events(events, "stopped until reload: ")),
        ("requests to the stand-in SDK, by endpoint and status", _sdk_statuses(run)),
        ("poll states received from the SDK", events["poll states received"]),
        (
            "sync posts during the load (heartbeats among them)",
            f"{len(during_load)} ({events['heartbeats']})",
        ),
        ("sync posts in all, by status", f"{len(syncs)} ({_status_counts(syncs)})"),
        (
            "sync request time: median / p95 / max ms",
            f"{_percentile(timings, 50)} / {_percentile(timings, 95)} / "
            f"{f'{timings[-1]:.0f}' if timings else ''}",
        ),
        ("sync posts rejected (4xx)", len(run.observer_stats["rejected_syncs"])),
        (
            "final forwards sent / failed",
            f"{events['final forward sent']} / {events['final forward failed']}",
        ),
    ]


def _observer_pages(run):
    events = run.observer_stats["events"]
    pages = events["final forward sent"] + events["final forward failed"]
    return f"{run.observers} ({pages})"


def _events(events, prefix):
    found = sorted(
        (event.removeprefix(prefix), count)
        for event, count in events.items()
        if event.startswith(prefix)
    )
    return ", ".join(f"{reason}: {count}" for reason, count in found) or "none"


def _sdk_statuses(run):
    statuses = sorted(run.observer_stats["sdk_statuses"].items(), key=lambda item: str(item[0]))
    return (
        ", ".join(f"{endpoint} {status}: {count}" for (endpoint, status), count in statuses)
        or "none"
    )


def _status_counts(request_records):
    statuses = Counter(
        _status_class(request) if request.status is None else request.status
        for request in request_records
    )
    return (
        ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items(), key=str))
        or "none"
    )


def _kind_rows(request_records):
    kinds = sorted({request.kind for request in request_records})
    rows = [
        _kind_row(kind, [request for request in request_records if request.kind == kind])
        for kind in kinds
    ]
    rows.append(_kind_row("all", request_records))
    return rows


def _kind_row(kind, request_records):
    classes = Counter(_status_class(request) for request in request_records)
    statuses = Counter(request.status for request in request_records if request.status is not None)
    timings = sorted(request.seconds * 1000 for request in request_records if not request.resent)
    return (
        kind,
        len(request_records),
        classes["2xx"],
        classes["3xx"],
        classes["4xx"],
        classes["5xx"],
        classes["no response"],
        ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())),
        _percentile(timings, 50),
        _percentile(timings, 95),
        f"{timings[-1]:.0f}" if timings else "",
    )


def _outcome_rows(launches):
    modes = ["once", "twice in a row", "twice at once"]
    counts = Counter((record.outcome, record.mode) for record in launches)
    rows = []
    for outcome in OUTCOMES:
        row = [counts[(outcome, mode)] for mode in modes]
        if sum(row):
            rows.append((outcome, *row, sum(row)))
    rows.append(
        ("all", *(sum(counts[(o, mode)] for o in OUTCOMES) for mode in modes), len(launches))
    )
    return rows


def _fault_rows(run):
    targets = ["meeting list", "one meeting", "active session", "poll create"]
    counts = Counter((fault.kind, fault.target) for fault in run.faults_injected)
    hits = Counter()
    for fault in run.faults_injected:
        hits[fault.kind] += run.fault_hits.get(fault.id, 0)
    kinds = sorted({fault.kind for fault in run.faults_injected}, key=_fault_sort_key)
    return [(kind, *(counts[(kind, target)] for target in targets), hits[kind]) for kind in kinds]


def _fault_sort_key(kind):
    status = re.search(r"\d{3}", kind)
    return (not kind.startswith("HTTP"), kind if not status else f"{kind[:-3]}{status.group(0)}")


def _details(run, checks, log_path):
    lines = []
    if checks.server_errors:
        lines += ["## HTTP 500 responses", ""]
        lines += [f"- {a.kind}: {a.method} {a.path}" for a in checks.server_errors[:50]]
        lines += ["", f"The dashboard's log is {log_path}.", ""]
    if checks.no_responses:
        lines += ["## Requests without a response", ""]
        lines += [
            f"- {a.kind}: {a.method} {a.path} after {a.seconds:.1f} s: {a.error}"
            for a in checks.no_responses[:50]
        ]
        lines.append("")
    if checks.duplicates:
        lines += ["## Duplicate polls", ""]
        for record, polls in checks.duplicates:
            ids = ", ".join(poll["id"] for poll in polls)
            responses = "; ".join(f"{s.status} {s.outcome}" for s in record.submits)
            lines.append(
                f"- launch key {record.launch_key} ({record.mode}; responses: {responses}): sandbox polls {ids}"
            )
        lines.append("")
    if checks.gaps:
        lines += ["## Unexplained gaps", ""]
        for poll in checks.launched_not_upstream:
            lines.append(
                f"- dashboard poll {poll['pk']} is launched as {poll['upstream_id']!r}, which is missing in the sandbox or has another question or meeting there"
            )
        for poll, stored in checks.upstream_unexplained:
            lines.append(f"- sandbox poll {poll['id']} ({poll['question']!r}) {_match(stored)}")
        for poll in checks.stuck_launching:
            lines.append(f"- dashboard poll {poll['pk']} ({poll['question']!r}) is still launching")
        lines.append("")
    lines += _dashboard_path_details(run, checks)
    if checks.unconfirmed_not_shown:
        lines += ["## Unconfirmed launches not shown as unconfirmed to the moderator", ""]
        for record in checks.unconfirmed_not_shown[:20]:
            responses = "; ".join(
                f"{s.status} {s.outcome}: {s.message[:160]}" for s in record.submits
            )
            lines.append(
                f"- {record.launch_key} ({record.mode}, {record.meeting_id[-2:]}): {responses}"
            )
        lines.append("")
    if run.soak_errors:
        lines += [
            "## Errors in the soak test's own code",
            "",
            "```",
            *run.soak_errors[:5],
            "```",
            "",
        ]
    if run.faults_rejected:
        lines += ["## Faults the sandbox rejected", ""]
        lines += [f"- {text}" for text in run.faults_rejected[:10]]
        lines.append("")
    return lines


def _dashboard_path_details(run, checks):
    lines = []
    if checks.vote_gaps:
        lines += ["## Votes that differ between the sandbox and the dashboard", ""]
        for gap in checks.vote_gaps[:MAX_ITEMS_SHOWN]:
            upstream = [option["count"] for option in gap.poll["options"]]
            stored = (
                f"dashboard poll {gap.stored['pk']} {gap.stored['counts']}"
                if gap.stored
                else "no dashboard poll"
            )
            lines.append(
                f"- sandbox poll {gap.poll['id']} ({gap.poll['question']!r}) {upstream}, {stored}: "
                f"{gap.lost} lost, {gap.extra} extra"
            )
        lines.append("")
    if checks.inconsistent_totals:
        lines += ["## Dashboard polls whose total differs from their options", ""]
        for poll, stored in checks.inconsistent_totals[:MAX_ITEMS_SHOWN]:
            lines.append(
                f"- dashboard poll {stored['pk']} ({poll['question']!r}): total {stored['total_votes']}, options {stored['counts']}"
            )
        lines.append("")
    if checks.stored_twice:
        lines += ["## Questions stored in 2 or more dashboard polls", ""]
        for polls in checks.stored_twice[:MAX_ITEMS_SHOWN]:
            rows = "; ".join(
                f"poll {poll['pk']} {poll['status']} as {poll['upstream_id'] or 'no upstream id'!r}, launch key {poll['launch_key']}"
                for poll in polls
            )
            lines.append(f"- {polls[0]['question']!r}: {rows}")
        lines.append("")
    rejected = run.observer_stats["rejected_syncs"]
    if rejected:
        lines += ["## Sync posts the dashboard rejected", ""]
        lines += [f"- {text}" for text in rejected[:MAX_ITEMS_SHOWN]]
        lines.append("")
    return lines


def _match(stored):
    if stored is None:
        return "has no poll with its question in the dashboard"
    if stored["status"] == "launched":
        return f"matches dashboard poll {stored['pk']}, launched as {stored['upstream_id']!r}"
    return f"matches dashboard poll {stored['pk']}, which is still {stored['status']}"


def _status_class(request):
    if request.resent:
        return "resent"
    return "no response" if request.status is None else f"{request.status // 100}xx"


def _percentile(sorted_values, percent):
    if not sorted_values:
        return ""
    index = max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)
    return f"{sorted_values[index]:.0f}"


def _capped(count):
    # The sandbox keeps the latest 10,000 requests only.
    return f"{count} (the log's limit: earlier ones are not counted)" if count >= 10_000 else count


def _sent_twice(launches):
    modes = Counter(record.mode for record in launches)
    return f"{modes['twice in a row']} / {modes['twice at once']}"


def _statuses(counter):
    return ", ".join(f"{status}: {count}" for status, count in sorted(counter.items())) or "none"


def _memory(run):
    if run.memory_start_mib is None or run.memory_end_mib is None:
        return "not measured"
    return f"{run.memory_start_mib} MiB → {run.memory_end_mib} MiB"


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines
