"""The benchmark's Markdown report: the target table, then how each cost grows."""

from dataclasses import dataclass, field

from benchmarks.bench_client import summarize

KIB = 1024
MAX_ERRORS_SHOWN = 20


@dataclass
class Results:
    """Everything one run measured, keyed by the scale of each phase."""

    setup: dict
    upstream: dict = field(default_factory=dict)
    unchanged: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)
    single_forwards: dict = field(default_factory=dict)
    forward_loads: dict = field(default_factory=dict)
    browser: object = None
    transfer: tuple | None = None
    seconds: float = 0.0

    def errors(self):
        books = [
            *self.unchanged.values(),
            *self.changed.values(),
            *(book for book, _ in self.single_forwards.values()),
            *(load.book for load in self.forward_loads.values()),
        ]
        errors = [error for book in books for error in book.errors]
        errors += [error for result in self.upstream.values() for error in result.errors]
        if self.browser is not None:
            errors += self.browser.errors
        return errors


@dataclass
class Row:
    what: str
    measured: str
    target: str
    ratio: str
    met: bool | None


def server_times(book, kind, status=None):
    return summarize([sample.server_ms for sample in book.of_kind(kind, status)])


def client_times(book, kind, status=None):
    return summarize([sample.client_ms for sample in book.of_kind(kind, status)])


def ms(value):
    return "n/a" if value is None else f"{value:.1f} ms"


def times(value):
    return "n/a" if value is None else f"{value:.2f}×"


def divide(top, bottom):
    return None if top is None or not bottom else top / bottom


def target_rows(results):
    """Build one row per target of the benchmark, each with its verdict."""
    return [
        _upstream_row(results),
        _unchanged_row(results),
        _changed_row(results),
        _forward_row(results),
        _browser_row(results),
        _transfer_row(results),
        _overhead_row(results),
    ]


def _upstream_row(results):
    if not results.upstream:
        return Row("upstream calls, 50 moderators vs 1", "not measured", "", "", None)
    fewest, most = min(results.upstream), max(results.upstream)
    low, high = results.upstream[fewest], results.upstream[most]
    # One call per URL per freshness window, plus one for a window that the phase only
    # touches at its start or end.
    allowed = high.windows + 1
    busiest = max(high.by_path.values(), default=0)
    return Row(
        f"upstream calls for meeting lists and badges, {most} moderators vs {fewest}",
        f"{high.calls} calls with {most} vs {low.calls} with {fewest} in {high.seconds:.0f} s; "
        f"busiest URL {busiest} calls in {high.windows} windows; {high.rate_limited} rate-limited",
        "same count; at most 1 call per URL per freshness window",
        times(divide(high.calls, low.calls)),
        busiest <= allowed and high.calls <= low.calls + len(low.by_path),
    )


def _unchanged_row(results):
    if not results.unchanged:
        return Row("live fragment, nothing changed", "not measured", "", "", None)
    most = max(results.unchanged)
    book = results.unchanged[most]
    fragment = server_times(book, "fragment", 204)
    baseline = server_times(book, "baseline", 200)
    return Row(
        f"live results fragment when nothing changed, {most} moderators polling every second",
        f"p95 {ms(fragment.p95)} over {fragment.count} responses of 204",
        "p95 server time ≤ 5 ms",
        times(divide(fragment.p95, baseline.p95)),
        fragment.p95 is not None and fragment.p95 <= 5,
    )


def _changed_row(results):
    if not results.changed:
        return Row("live fragment after a change", "not measured", "", "", None)
    worst_votes = max(
        results.changed,
        key=lambda votes: server_times(results.changed[votes], "fragment", 200).p95 or 0,
    )
    book = results.changed[worst_votes]
    fragment = server_times(book, "fragment", 200)
    baseline = server_times(book, "baseline", 200)
    largest = max(
        (
            sample.body_bytes
            for changed in results.changed.values()
            for sample in changed.of_kind("fragment", 200)
        ),
        default=0,
    )
    return Row(
        "live results fragment after a change, 12 options",
        f"p95 {ms(fragment.p95)} at {worst_votes:,} votes (the slowest scale); "
        f"largest body {largest / KIB:.1f} KB",
        "p95 ≤ 20 ms; body ≤ 4 KB",
        times(divide(fragment.p95, baseline.p95)),
        fragment.p95 is not None and fragment.p95 <= 20 and largest <= 4 * KIB,
    )


def _forward_row(results):
    if not results.single_forwards or not results.forward_loads:
        return Row("forwarded update", "not measured", "", "", None)
    votes = max(results.single_forwards)
    book, _ = results.single_forwards[votes]
    single = server_times(book, "sync", 200)
    baseline = server_times(book, "baseline", 200)
    forwarders = max(results.forward_loads)
    load = results.forward_loads[forwarders]
    load_times = server_times(load.book, "sync", 200)
    return Row(
        f"one forwarded update of a poll with {votes:,} votes",
        f"p95 {ms(single.p95)} alone; with {forwarders} forwarders at 2 a second: p95 "
        f"{ms(load_times.p95)}, {load.sent} of {load.scheduled} sent, "
        f"{'backlog' if load.backlog else 'no backlog'}",
        f"p95 ≤ 50 ms; {forwarders} forwarders × 2/s with no backlog",
        times(divide(single.p95, baseline.p95)),
        single.p95 is not None and single.p95 <= 50 and not load.backlog,
    )


def _browser_row(results):
    browser = results.browser
    if browser is None or not browser.latencies_ms:
        return Row("vote to count shown in a browser", "not measured", "p95 ≤ 1.5 s", "—", None)
    summary = browser.summary
    return Row(
        "vote cast in the sandbox to the count shown in Chromium",
        f"p95 {summary.p95 / 1000:.2f} s over {summary.count} votes "
        f"(median {summary.p50 / 1000:.2f} s)",
        "p95 ≤ 1.5 s",
        "—",
        summary.p95 <= 1500 and not browser.errors,
    )


def _transfer_row(results):
    if results.transfer is None:
        return Row("meeting page transfer", "not measured", "≤ 100 KB", "—", None)
    page, assets = results.transfer
    total = page.wire_bytes + sum(asset.wire_bytes for asset in assets)
    good = [a for a in assets if a.encoding and a.cached_for_a_year and a.hashed]
    return Row(
        "meeting page transfer, excluding the RealtimeKit SDK",
        f"{total / KIB:.1f} KB in {1 + len(assets)} responses; {len(good)} of {len(assets)} "
        "static files compressed, hashed and cached for a year",
        "≤ 100 KB; every static file compressed, hashed, cached for a year",
        "—",
        total <= 100 * KIB and len(good) == len(assets),
    )


def _overhead_row(results):
    if not results.unchanged:
        return Row("fragment overhead over a constant view", "not measured", "", "", None)
    most = max(results.unchanged)
    book = results.unchanged[most]
    fragment = server_times(book, "fragment", 204)
    baseline = server_times(book, "baseline", 200)
    ratio = divide(fragment.p95, baseline.p95)
    return Row(
        "overhead of a live fragment over a bare view returning a constant",
        f"p95 {ms(fragment.p95)} vs {ms(baseline.p95)}; median "
        f"{ms(fragment.p50)} vs {ms(baseline.p50)} ({most} moderators)",
        "≤ 1.5×",
        times(ratio),
        ratio is not None and ratio <= 1.5,
    )


def render(results):
    """Return the whole report as Markdown."""
    lines = [*_header(results), *_targets(results), "## How cost grows", ""]
    lines += _upstream_table(results)
    lines += _unchanged_table(results)
    lines += _changed_table(results)
    lines += _forward_tables(results)
    lines += _browser_table(results)
    lines += _transfer_table(results)
    lines += _errors(results)
    return "\n".join(lines) + "\n"


def _header(results):
    setup = results.setup
    return [
        "# Benchmark results",
        "",
        f"Written by `make bench` ({setup['command']}) on {setup['date']}, in "
        f"{results.seconds / 60:.1f} minutes.",
        "",
        f"- Machine: {setup['machine']}. The load generator, the sandbox, the dashboard, "
        "the database and the cache all share it.",
        f"- Dashboard: gunicorn, {setup['workers']} workers of {setup['threads']} threads; "
        f"{setup['database']}; {setup['cache']}.",
        f"- Sandbox: every Cloudflare API request delayed by {setup['delay_ms']} ms. "
        f"`REALTIMEKIT_READ_FRESH_SECONDS={setup['fresh_seconds']:g}`.",
        "- Server time is the `Server-Timing` header of the benchmark's middleware, which "
        "runs first; client time adds gunicorn, the network and the client.",
        "- Ratio: the measured value over the baseline in the same run. For upstream calls the "
        "baseline is the count with the fewest moderators; for times it is the p95 server time "
        "of the bare view returning a constant, requested by the same clients in the same phase.",
        "",
    ]


def _targets(results):
    lines = [
        "## Targets",
        "",
        "| what | measured | target | ratio to baseline | met |",
        "|---|---|---|---|---|",
    ]
    for row in target_rows(results):
        verdict = {True: "yes", False: "**no**", None: "not measured"}[row.met]
        lines.append(f"| {row.what} | {row.measured} | {row.target} | {row.ratio} | {verdict} |")
    return [*lines, ""]


def _upstream_table(results):
    lines = [
        "### Upstream calls: moderators refreshing the meeting list, its badges and a meeting page",
        "",
        "| moderators | seconds | dashboard requests | Cloudflare calls | rate-limited (429) "
        "| busiest URL | calls per URL per window, max |",
        "|---|---|---|---|---|---|---|",
    ]
    for moderators, result in sorted(results.upstream.items()):
        path, busiest = max(result.by_path.items(), key=lambda item: item[1], default=("", 0))
        per_window = result.max_per_path_per_window
        lines.append(
            f"| {moderators} | {result.seconds:.0f} | {result.pages} | {result.calls} | "
            f"{result.rate_limited} | {busiest} (`…{path[-40:]}`) | "
            f"{'n/a' if per_window is None else f'{per_window:.1f}'} |"
        )
    return [*lines, ""]


def _unchanged_table(results):
    lines = [
        "### Live results fragment, nothing changed, each moderator polling every second",
        "",
        "| moderators | 204 | 200 | server p50 | server p95 | client p95 | baseline p50 "
        "| baseline p95 | ratio of p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for moderators, book in sorted(results.unchanged.items()):
        fragment = server_times(book, "fragment", 204)
        baseline = server_times(book, "baseline", 200)
        lines.append(
            f"| {moderators} | {fragment.count} | {len(book.of_kind('fragment', 200))} | "
            f"{ms(fragment.p50)} | {ms(fragment.p95)} | "
            f"{ms(client_times(book, 'fragment', 204).p95)} | {ms(baseline.p50)} | "
            f"{ms(baseline.p95)} | {times(divide(fragment.p95, baseline.p95))} |"
        )
    return [*lines, ""]


def _changed_table(results):
    lines = [
        "### Live results fragment after a change: 12 options, named voters, 10 moderators, "
        "a new state every 0.5 s",
        "",
        "| votes | 200 | server p50 | server p95 | client p95 | body max | baseline p95 "
        "| ratio of p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for votes, book in sorted(results.changed.items()):
        fragment = server_times(book, "fragment", 200)
        baseline = server_times(book, "baseline", 200)
        largest = max((s.body_bytes for s in book.of_kind("fragment", 200)), default=0)
        lines.append(
            f"| {votes:,} | {fragment.count} | {ms(fragment.p50)} | {ms(fragment.p95)} | "
            f"{ms(client_times(book, 'fragment', 200).p95)} | {largest / KIB:.1f} KB | "
            f"{ms(baseline.p95)} | {times(divide(fragment.p95, baseline.p95))} |"
        )
    return [*lines, ""]


def _forward_tables(results):
    lines = [
        "### One forwarded update at a time: 12 options, named voters",
        "",
        "| votes | updates | body | server p50 | server p95 | server max | client p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for votes, (book, body_bytes) in sorted(results.single_forwards.items()):
        server = server_times(book, "sync", 200)
        lines.append(
            f"| {votes:,} | {server.count} | {body_bytes / KIB:.0f} KB | {ms(server.p50)} | "
            f"{ms(server.p95)} | {ms(server.max)} | {ms(client_times(book, 'sync', 200).p95)} |"
        )
    lines += [
        "",
        "### Forwarders posting 2 updates a second each, on a fixed schedule",
        "",
        "| forwarders | scheduled | sent | not newer than stored | server p50 | server p95 "
        "| lag behind schedule p95 | lag max | backlog |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for forwarders, load in sorted(results.forward_loads.items()):
        server = server_times(load.book, "sync", 200)
        lag = summarize(load.lags_ms)
        lines.append(
            f"| {forwarders} | {load.scheduled} | {load.sent} | {load.unchanged} | "
            f"{ms(server.p50)} | {ms(server.p95)} | {ms(lag.p95)} | {ms(lag.max)} | "
            f"{'yes' if load.backlog else 'no'} |"
        )
    return [*lines, ""]


def _browser_table(results):
    browser = results.browser
    if browser is None:
        return []
    summary = browser.summary
    return [
        "### Vote to count shown in Chromium, one vote at a time",
        "",
        "| votes shown | p50 | p95 | max | failures |",
        "|---|---|---|---|---|",
        f"| {summary.count} | {ms(summary.p50)} | {ms(summary.p95)} | {ms(summary.max)} | "
        f"{len(browser.errors)} |",
        "",
    ]


def _transfer_table(results):
    if results.transfer is None:
        return []
    page, assets = results.transfer
    lines = [
        "### Meeting page transfer, `Accept-Encoding: gzip, br`",
        "",
        "| response | bytes on the wire | encoding | Cache-Control | hashed name |",
        "|---|---|---|---|---|",
        f"| meeting page HTML | {page.wire_bytes:,} | {page.encoding or 'none'} | "
        f"{page.response.headers.get('Cache-Control', '')} | n/a |",
    ]
    for asset in assets:
        lines.append(
            f"| `{asset.url}` | {asset.wire_bytes:,} | {asset.encoding or 'none'} | "
            f"{asset.cache_control} | {'yes' if asset.hashed else 'no'} |"
        )
    return [*lines, ""]


def _errors(results):
    errors = results.errors()
    if not errors:
        return ["No request failed and no bench thread raised an error.", ""]
    shown = errors[:MAX_ERRORS_SHOWN]
    lines = [f"## Errors ({len(errors)})", ""]
    lines += [f"- {error}" for error in shown]
    if len(errors) > len(shown):
        lines.append(f"- … and {len(errors) - len(shown)} more")
    return [*lines, ""]
