"""Strict reading of the poll updates that observer pages forward to the dashboard.

The bridge script sends what RealtimeKit's SDK reports, reshaped into this body:

    {"polls": [{"id", "question", "anonymous", "hide_votes", "created_by",
                "options": [{"text", "count", "voters": [{"id", "name"}]}]}],
     "ended": false}

Anything else is refused as a whole, so one bad poll never leaves half an update recorded.
"""

import json
import re
from dataclasses import dataclass

MAX_BODY_BYTES = 4 * 1024 * 1024
# A page sends every poll of the session when it joins, and only changed ones after that.
MAX_POLLS = 500
MAX_OPTIONS = 50
MAX_QUESTION_LENGTH = 1000
# PollOption.text is at most 255 characters long.
MAX_OPTION_LENGTH = 255
MAX_NAME_LENGTH = 200
MAX_COUNT = 10_000_000
MAX_VOTERS = 200_000
POLL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

POLL_FIELDS = {"id", "question", "anonymous", "hide_votes", "created_by", "options"}
OPTION_FIELDS = {"text", "count", "voters"}
VOTER_FIELDS = {"id", "name"}


class FeedError(Exception):
    """A forwarded update that the dashboard rejects, with the HTTP status to respond with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class OptionSnapshot:
    text: str
    count: int
    voters: tuple  # ({"id": ..., "name": ...}, ...)


@dataclass(frozen=True)
class PollSnapshot:
    id: str
    question: str
    anonymous: bool
    hide_votes: bool
    created_by: str
    options: tuple

    @property
    def total_votes(self):
        return sum(option.count for option in self.options)


@dataclass(frozen=True)
class FeedUpdate:
    polls: tuple
    ended: bool


def parse_update(body):
    """Return the FeedUpdate in `body` (bytes), or raise FeedError saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise too_large(len(body))
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise FeedError("The body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise FeedError(f"The body is not valid JSON: {error}.") from None

    _expect_object(data, "The body", required={"polls"}, allowed={"polls", "ended"})
    polls = _expect_list(data["polls"], "polls", MAX_POLLS)
    ended = data.get("ended", False)
    if not isinstance(ended, bool):
        raise FeedError("ended must be true or false.")

    snapshots = tuple(_poll(item, f"polls[{index}]") for index, item in enumerate(polls))
    ids = [snapshot.id for snapshot in snapshots]
    if len(set(ids)) != len(ids):
        raise FeedError("A poll id appears twice in polls.")
    voters = sum(len(option.voters) for snapshot in snapshots for option in snapshot.options)
    if voters > MAX_VOTERS:
        raise FeedError(f"The update names {voters} voters; the limit is {MAX_VOTERS}.", 413)
    return FeedUpdate(polls=snapshots, ended=ended)


def too_large(size):
    return FeedError(f"The body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes.", 413)


def _poll(item, where):
    _expect_object(item, where, required=POLL_FIELDS, allowed=POLL_FIELDS)
    poll_id = _text(item["id"], f"{where}.id", 64)
    if not POLL_ID.fullmatch(poll_id):
        raise FeedError(f"{where}.id is not a RealtimeKit poll id.")
    anonymous = _flag(item["anonymous"], f"{where}.anonymous")
    options = _expect_list(item["options"], f"{where}.options", MAX_OPTIONS)
    if not options:
        raise FeedError(f"{where}.options is empty.")
    return PollSnapshot(
        id=poll_id,
        question=_text(item["question"], f"{where}.question", MAX_QUESTION_LENGTH),
        anonymous=anonymous,
        hide_votes=_flag(item["hide_votes"], f"{where}.hide_votes"),
        created_by=_text(item["created_by"], f"{where}.created_by", MAX_NAME_LENGTH, blank=True),
        options=tuple(
            _option(option, f"{where}.options[{index}]", anonymous)
            for index, option in enumerate(options)
        ),
    )


def _option(item, where, anonymous):
    _expect_object(item, where, required=OPTION_FIELDS, allowed=OPTION_FIELDS)
    count = item["count"]
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise FeedError(f"{where}.count must be a whole number from 0 to {MAX_COUNT}.")
    voters = _expect_list(item["voters"], f"{where}.voters", MAX_VOTERS)
    if len(voters) > count:
        raise FeedError(f"{where} names {len(voters)} voters but counts {count} votes.")
    return OptionSnapshot(
        text=_text(item["text"], f"{where}.text", MAX_OPTION_LENGTH, blank=True),
        count=count,
        # An anonymous poll keeps no names at all, even if a client sent some.
        voters=() if anonymous else _voters(voters, f"{where}.voters"),
    )


def _voters(items, where):
    """Return the voters, checked in bulk because a large poll names thousands of them. When
    the bulk check fails, each voter is checked alone, for the message that names the fault."""
    if all(type(item) is dict and item.keys() == VOTER_FIELDS for item in items):
        ids = [item["id"] for item in items]
        names = [item["name"] for item in items]
        texts = ids + names
        if (
            all(type(text) is str and len(text) <= MAX_NAME_LENGTH for text in texts)
            and all(text.strip() for text in ids)
            and _storable("".join(texts))
        ):
            return tuple({"id": id_, "name": name} for id_, name in zip(ids, names, strict=True))
    return tuple(_voter(item, where) for item in items)


def _storable(text):
    """Return True when `text` has no NUL and no half of a UTF-16 surrogate pair."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _voter(item, where):
    _expect_object(item, where, required=VOTER_FIELDS, allowed=VOTER_FIELDS)
    return {
        "id": _text(item["id"], f"{where}[].id", MAX_NAME_LENGTH),
        "name": _text(item["name"], f"{where}[].name", MAX_NAME_LENGTH, blank=True),
    }


def _expect_object(value, where, *, required, allowed):
    if not isinstance(value, dict):
        raise FeedError(f"{where} must be a JSON object.")
    missing = sorted(required - value.keys())
    if missing:
        raise FeedError(f"{where} lacks {', '.join(missing)}.")
    unknown = sorted(value.keys() - allowed)
    if unknown:
        raise FeedError(f"{where} has unknown fields: {', '.join(unknown)}.")


def _expect_list(value, where, limit):
    if not isinstance(value, list):
        raise FeedError(f"{where} must be a list.")
    if len(value) > limit:
        raise FeedError(f"{where} has {len(value)} items; the limit is {limit}.", 413)
    return value


def _flag(value, where):
    if not isinstance(value, bool):
        raise FeedError(f"{where} must be true or false.")
    return value


def _text(value, where, limit, *, blank=False):
    if not isinstance(value, str):
        raise FeedError(f"{where} must be a string.")
    if len(value) > limit:
        raise FeedError(f"{where} is {len(value)} characters; the limit is {limit}.")
    # PostgreSQL cannot store NUL in text, and no real poll contains one.
    if "\x00" in value:
        raise FeedError(f"{where} contains a NUL character.")
    # JSON can carry half of a UTF-16 pair, such as a name cut in the middle of an emoji; it
    # cannot be stored.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FeedError(f"{where} contains half of a UTF-16 surrogate pair.") from None
    if not blank and not value.strip():
        raise FeedError(f"{where} is blank.")
    return value
