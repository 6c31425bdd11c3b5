"""Strict parsing of the poll updates that observer pages forward: feed.parse_update."""

import json

import pytest

from polls.feed import (
    MAX_BODY_BYTES,
    MAX_COUNT,
    MAX_OPTIONS,
    MAX_POLLS,
    FeedError,
    parse_update,
)
from polls.models import PollOption


def voter(voter_id, name):
    return {"id": voter_id, "name": name}


def poll_body(poll_id="poll-1", **fields):
    return {
        "id": poll_id,
        "question": "Which track next?",
        "anonymous": False,
        "hide_votes": False,
        "created_by": "Priya",
        "options": [
            {"text": "Keynote", "count": 2, "voters": [voter("u1", "Ana"), voter("u2", "Ben")]},
            {"text": "Workshop", "count": 1, "voters": [voter("u3", "Chen")]},
        ],
        **fields,
    }


def update_body(*polls, **fields):
    return {"polls": list(polls) or [poll_body()], "ended": False, **fields}


def body_with(path, value):
    """Return a valid update body with the field at `path` set to `value`."""
    body = update_body()
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    target[last] = value
    return body


def encode(body):
    return json.dumps(body).encode()


def rejection(body):
    """Return the FeedError that parse_update raises for `body` (bytes, or a value that json.dumps accepts)."""
    with pytest.raises(FeedError) as raised:
        parse_update(body if isinstance(body, bytes) else encode(body))
    return raised.value


# Valid bodies


def test_valid_body_is_parsed():
    update = parse_update(encode(update_body(ended=True)))

    assert update.ended is True
    [poll] = update.polls
    assert poll.id == "poll-1"
    assert poll.question == "Which track next?"
    assert poll.anonymous is False
    assert poll.hide_votes is False
    assert poll.created_by == "Priya"
    assert [option.text for option in poll.options] == ["Keynote", "Workshop"]
    assert [option.count for option in poll.options] == [2, 1]
    assert poll.options[0].voters == (voter("u1", "Ana"), voter("u2", "Ben"))
    assert poll.options[1].voters == (voter("u3", "Chen"),)
    assert poll.total_votes == 3


def test_ended_defaults_to_false():
    body = update_body()
    del body["ended"]

    assert parse_update(encode(body)).ended is False


def test_empty_poll_list_is_valid():
    assert parse_update(encode(update_body(polls=[]))).polls == ()


def test_blank_option_text_and_creator_are_valid():
    body = body_with(("polls", 0, "created_by"), "")
    body["polls"][0]["options"][1]["text"] = ""

    [poll] = parse_update(encode(body)).polls

    assert poll.created_by == ""
    assert poll.options[1].text == ""


def test_anonymous_poll_drops_voters():
    body = update_body(poll_body(anonymous=True))

    [poll] = parse_update(encode(body)).polls

    assert [option.voters for option in poll.options] == [(), ()]
    assert [option.count for option in poll.options] == [2, 1]


# Bodies that are not a JSON object


def test_malformed_json_is_rejected():
    error = rejection(b'{"polls": [')

    assert error.status == 400
    assert "not valid JSON" in error.message


def test_invalid_utf8_is_rejected():
    error = rejection(b'{"polls": [], "note": "\xff"}')

    assert error.status == 400
    assert "not valid UTF-8" in error.message


@pytest.mark.parametrize("body", [[], "polls", 3, None], ids=["list", "string", "number", "null"])
def test_body_that_is_not_object_is_rejected(body):
    error = rejection(body)

    assert error.status == 400
    assert error.message == "The body must be a JSON object."


def test_missing_polls_is_rejected():
    error = rejection({"ended": False})

    assert error.status == 400
    assert error.message == "The body lacks polls."


def test_missing_poll_field_is_rejected():
    body = update_body()
    del body["polls"][0]["hide_votes"]

    error = rejection(body)

    assert error.status == 400
    assert error.message == "polls[0] lacks hide_votes."


# Unknown fields


@pytest.mark.parametrize(
    ("path", "where"),
    [
        pytest.param(("debug",), "The body", id="top-level"),
        pytest.param(("polls", 0, "status"), "polls[0]", id="poll"),
        pytest.param(("polls", 0, "options", 1, "percent"), "polls[0].options[1]", id="option"),
        pytest.param(
            ("polls", 0, "options", 0, "voters", 1, "email"),
            "polls[0].options[0].voters",
            id="voter",
        ),
    ],
)
def test_unknown_field_is_rejected(path, where):
    error = rejection(body_with(path, "x"))

    assert error.status == 400
    assert error.message == f"{where} has unknown fields: {path[-1]}."


# Wrong types and values


COUNT = ("polls", 0, "options", 1, "count")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param(("polls",), {}, "polls must be a list.", id="polls-object"),
        pytest.param(("ended",), "no", "ended must be true or false.", id="ended-string"),
        pytest.param(
            ("polls", 0, "anonymous"),
            1,
            "polls[0].anonymous must be true or false.",
            id="anonymous-number",
        ),
        pytest.param(
            ("polls", 0, "hide_votes"),
            None,
            "polls[0].hide_votes must be true or false.",
            id="hide-votes-null",
        ),
        pytest.param(
            ("polls", 0, "question"), 7, "polls[0].question must be a string.", id="question-number"
        ),
        pytest.param(
            ("polls", 0, "options"), "Yes", "polls[0].options must be a list.", id="options-string"
        ),
        pytest.param(
            ("polls", 0, "options", 0, "voters"),
            "Ana",
            "polls[0].options[0].voters must be a list.",
            id="voters-string",
        ),
        pytest.param(
            ("polls", 0, "options", 0, "voters", 0, "name"),
            None,
            "polls[0].options[0].voters[].name must be a string.",
            id="voter-name-null",
        ),
        pytest.param(
            ("polls", 0, "options", 0, "voters", 0),
            "u1",
            "polls[0].options[0].voters must be a JSON object.",
            id="voter-string",
        ),
    ],
)
def test_wrong_type_is_rejected(path, value, message):
    error = rejection(body_with(path, value))

    assert error.status == 400
    assert error.message == message


@pytest.mark.parametrize(
    "count",
    [True, "1", -1, MAX_COUNT + 1, 1.0],
    ids=["bool", "string", "negative", "above-max", "float"],
)
def test_invalid_count_is_rejected(count):
    error = rejection(body_with(COUNT, count))

    assert error.status == 400
    assert (
        error.message == f"polls[0].options[1].count must be a whole number from 0 to {MAX_COUNT}."
    )


def test_max_count_is_valid():
    body = body_with(COUNT, MAX_COUNT)

    [poll] = parse_update(encode(body)).polls

    assert poll.options[1].count == MAX_COUNT


@pytest.mark.parametrize("question", ["", "   \n\t"], ids=["empty", "whitespace"])
def test_blank_question_is_rejected(question):
    error = rejection(body_with(("polls", 0, "question"), question))

    assert error.status == 400
    assert error.message == "polls[0].question is blank."


@pytest.mark.parametrize(
    ("path", "where"),
    [
        pytest.param(("polls", 0, "question"), "polls[0].question", id="question"),
        pytest.param(("polls", 0, "created_by"), "polls[0].created_by", id="created-by"),
        pytest.param(("polls", 0, "options", 1, "text"), "polls[0].options[1].text", id="option"),
        pytest.param(
            ("polls", 0, "options", 0, "voters", 1, "name"),
            "polls[0].options[0].voters[].name",
            id="voter-name",
        ),
    ],
)
def test_nul_character_is_rejected(path, where):
    error = rejection(body_with(path, "Key\x00note"))

    assert error.status == 400
    assert error.message == f"{where} contains a NUL character."


def test_lone_surrogate_is_rejected():
    error = rejection(body_with(("polls", 0, "options", 0, "voters", 0, "name"), "Ana \ud83d"))

    assert error.status == 400
    assert "polls[0].options[0].voters[].name" in error.message


def test_long_question_is_rejected():
    error = rejection(body_with(("polls", 0, "question"), "Q" * 1001))

    assert error.status == 400
    assert error.message == "polls[0].question is 1001 characters; the limit is 1000."


def test_option_text_longer_than_column_is_rejected():
    limit = PollOption._meta.get_field("text").max_length

    error = rejection(body_with(("polls", 0, "options", 0, "text"), "O" * (limit + 1)))

    assert error.status == 400
    assert "polls[0].options[0].text" in error.message


# Poll ids


@pytest.mark.parametrize(
    "poll_id",
    [
        pytest.param("poll 1", id="space"),
        pytest.param("polls/1", id="slash"),
        pytest.param("pöll", id="non-ascii"),
        pytest.param("poll-1\n", id="trailing-newline"),
    ],
)
def test_bad_poll_id_is_rejected(poll_id):
    error = rejection(update_body(poll_body(poll_id)))

    assert error.status == 400
    assert error.message == "polls[0].id is not a RealtimeKit poll id."


def test_long_poll_id_is_rejected():
    error = rejection(update_body(poll_body("p" * 65)))

    assert error.status == 400
    assert error.message == "polls[0].id is 65 characters; the limit is 64."


def test_blank_poll_id_is_rejected():
    error = rejection(update_body(poll_body("")))

    assert error.status == 400
    assert error.message == "polls[0].id is blank."


def test_uuid_and_dotted_poll_ids_are_valid():
    ids = ["0b6c5a6e-3f1c-4c55-9d43-1f6f0f1b2a77", "app_1.poll:2", "p" * 64]

    update = parse_update(encode(update_body(*(poll_body(poll_id) for poll_id in ids))))

    assert [poll.id for poll in update.polls] == ids


def test_duplicate_poll_ids_are_rejected():
    error = rejection(update_body(poll_body("poll-1"), poll_body("poll-2"), poll_body("poll-1")))

    assert error.status == 400
    assert error.message == "A poll id appears twice in polls."


# Options and voters


def test_empty_options_are_rejected():
    error = rejection(body_with(("polls", 0, "options"), []))

    assert error.status == 400
    assert error.message == "polls[0].options is empty."


def test_more_voters_than_count_is_rejected():
    error = rejection(body_with(COUNT, 0))

    assert error.status == 400
    assert error.message == "polls[0].options[1] names 1 voters but counts 0 votes."


def test_fewer_voters_than_count_is_valid():
    body = body_with(COUNT, 5)

    [poll] = parse_update(encode(body)).polls

    assert poll.options[1].count == 5
    assert len(poll.options[1].voters) == 1


# Size limits


def test_too_many_polls_is_rejected():
    polls = [poll_body(f"poll-{index}") for index in range(MAX_POLLS + 1)]

    error = rejection(update_body(*polls))

    assert error.status == 413
    assert error.message == f"polls has {MAX_POLLS + 1} items; the limit is {MAX_POLLS}."


def test_max_polls_is_valid():
    polls = [poll_body(f"poll-{index}") for index in range(MAX_POLLS)]

    assert len(parse_update(encode(update_body(*polls))).polls) == MAX_POLLS


def test_too_many_options_is_rejected():
    options = [{"text": f"Option {n}", "count": 0, "voters": []} for n in range(MAX_OPTIONS + 1)]

    error = rejection(body_with(("polls", 0, "options"), options))

    assert error.status == 413
    assert (
        error.message
        == f"polls[0].options has {MAX_OPTIONS + 1} items; the limit is {MAX_OPTIONS}."
    )


def test_oversized_body_is_rejected():
    body = encode(update_body())
    body += b" " * (MAX_BODY_BYTES + 1 - len(body))

    error = rejection(body)

    assert error.status == 413
    assert error.message == (
        f"The body is {MAX_BODY_BYTES + 1} bytes; the limit is {MAX_BODY_BYTES} bytes."
    )


def test_body_at_size_limit_is_parsed():
    body = encode(update_body())
    body += b" " * (MAX_BODY_BYTES - len(body))

    assert parse_update(body).polls[0].id == "poll-1"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "  ", "polls[0].options[0].voters[].id is blank."),
        ("id", 7, "polls[0].options[0].voters[].id must be a string."),
        (
            "name",
            "N" * 201,
            "polls[0].options[0].voters[].name is 201 characters; the limit is 200.",
        ),
    ],
    ids=["blank-id", "number-id", "long-name"],
)
def test_bad_voter_among_many_is_named(field, value, message):
    body = update_body()
    voters = [voter(f"u{n}", f"Voter {n}") for n in range(2000)]
    voters[1500][field] = value
    body["polls"][0]["options"][0].update(count=2000, voters=voters)

    error = rejection(body)

    assert error.status == 400
    assert error.message == message


def test_many_voters_are_kept_in_order():
    body = update_body()
    voters = [voter(f"u{n}", f"Voter {n}") for n in range(2000)]
    body["polls"][0]["options"][0].update(count=2000, voters=voters)

    poll = parse_update(encode(body)).polls[0]

    assert poll.options[0].voters == tuple(voters)
