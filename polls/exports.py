"""A poll's results as CSV and JSON: one row per option, voter names only for named polls."""

import csv
import io

from polls.templatetags.poll_results import percent_of

# A spreadsheet runs a cell that starts with one of these as a formula, and participants
# choose the texts of their own polls and their display names.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filename(poll, extension):
    return f"poll-{poll.pk}-results.{extension}"


def as_csv(poll):
    columns = ["question", "option", "votes", "percent"]
    if not poll.anonymous:
        columns.append("voters")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for option in poll.options.all():
        row = [poll.question, option.text, option.count, percent_of(option.count, poll.total_votes)]
        if not poll.anonymous:
            row.append("; ".join(_voter_name(voter) for voter in option.voters))
        writer.writerow([_inert(cell) for cell in row])
    return out.getvalue()


def as_json(poll):
    return {
        "id": poll.pk,
        "upstream_id": poll.upstream_id,
        "meeting_id": poll.meeting_id,
        "session_id": poll.session_id,
        "question": poll.question,
        "anonymous": poll.anonymous,
        "hide_votes": poll.hide_votes,
        "status": poll.status,
        "launched_from_dashboard": poll.launch_key is not None,
        "created_by": poll.created_by,
        "launched_by": poll.launched_by.get_username() if poll.launched_by else None,
        "launched_at": poll.launched_at.isoformat(),
        "results_updated_at": poll.results_updated_at.isoformat()
        if poll.results_updated_at
        else None,
        "total_votes": poll.total_votes,
        "options": [_option(poll, option) for option in poll.options.all()],
    }


def _option(poll, option):
    data = {
        "text": option.text,
        "votes": option.count,
        "percent": percent_of(option.count, poll.total_votes),
    }
    if not poll.anonymous:
        data["voters"] = [
            {"id": voter.get("id", ""), "name": voter.get("name", "")} for voter in option.voters
        ]
    return data


def _voter_name(voter):
    return voter.get("name") or voter.get("id", "")


def _inert(cell):
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
