"""The poll form's limits, checked without any network: invalid input never reaches Cloudflare."""

import uuid

import pytest
from django.http import QueryDict

from polls.forms import PollForm


def bind(question="Which track next?", options=("Keynote", "Workshop"), **flags):
    data = QueryDict(mutable=True)
    data["question"] = question
    data["launch_key"] = str(uuid.uuid4())
    data.setlist("options", list(options))
    for name, value in flags.items():
        data[name] = value
    return PollForm(data)


def test_valid_poll_is_cleaned():
    form = bind(
        question="  Which track next?  ", options=[" Keynote ", "", "Workshop"], anonymous="on"
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "question": "Which track next?",
        "options": ["Keynote", "Workshop"],
        "anonymous": True,
        "hide_votes": False,
        "launch_key": uuid.UUID(form.data["launch_key"]),
    }


@pytest.mark.parametrize("question", ["", "   \t\n "])
def test_blank_question_is_rejected(question):
    form = bind(question=question)

    assert not form.is_valid()
    assert form.errors["question"] == ["Write the question the audience will answer."]


def test_question_of_ten_thousand_characters_is_rejected():
    form = bind(question="x" * 10_000)

    assert not form.is_valid()
    assert "at most 300 characters" in form.errors["question"][0]
    assert "10000" in form.errors["question"][0]


def test_question_of_three_hundred_characters_is_accepted():
    assert bind(question="q" * 300).is_valid()


def test_empty_options_are_rejected():
    form = bind(options=["", "  "])

    assert not form.is_valid()
    assert form.errors["options"] == ["Give at least 2 options."]


def test_one_option_is_rejected():
    form = bind(options=["Only"])

    assert not form.is_valid()
    assert form.errors["options"] == ["Give at least 2 options."]


def test_twelve_options_are_accepted():
    assert bind(options=[f"Option {n}" for n in range(12)]).is_valid()


def test_thirteen_options_are_rejected():
    form = bind(options=[f"Option {n}" for n in range(13)])

    assert not form.is_valid()
    assert "at most 12 options" in form.errors["options"][0]


def test_thousands_of_option_rows_are_rejected_early():
    form = bind(options=["x"] * 5000)

    assert not form.is_valid()
    assert "at most 12 options" in form.errors["options"][0]


def test_option_of_ten_thousand_characters_is_rejected():
    form = bind(options=["Short", "y" * 10_000])

    assert not form.is_valid()
    assert "at most 120 characters" in form.errors["options"][0]


def test_options_differing_only_in_case_are_duplicates():
    form = bind(options=["Yes", "No", " YES "])

    assert not form.is_valid()
    assert "“YES” appears twice" in form.errors["options"][0]


def test_emoji_and_rtl_text_kept_intact():
    question = "מה דעתכם על הכנס? 🎉"
    options = ["👍 כן", "👎 لا", "🤷‍♀️ Maybe"]

    form = bind(question=question, options=options)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["question"] == question
    assert form.cleaned_data["options"] == options


def test_invalid_form_keeps_every_row_the_moderator_typed():
    form = bind(options=["Yes", "", "yes"])

    assert not form.is_valid()
    assert form.option_rows() == ["Yes", "", "yes"]


def test_unbound_form_starts_with_two_empty_rows():
    assert PollForm().option_rows() == ["", ""]


def test_zero_width_space_option_is_duplicate():
    form = bind(options=["Yes", "Yes\u200b", "No"])

    assert not form.is_valid()
    assert "appears twice" in form.errors["options"][0]


def test_option_of_only_invisible_characters_is_left_out():
    form = bind(options=["Yes", "\u200b\u200b", "No"])

    assert form.is_valid(), form.errors
    assert form.cleaned_data["options"] == ["Yes", "No"]


def test_question_of_only_invisible_characters_is_rejected():
    form = bind(question="\u200b\u2060")

    assert not form.is_valid()
    assert form.errors["question"] == ["Write the question the audience will answer."]


@pytest.mark.parametrize("question", ["Line one\nline two", "Tab\there", "Bell\x07"])
def test_question_with_control_characters_is_rejected(question):
    form = bind(question=question)

    assert not form.is_valid()
    assert "control characters" in form.errors["question"][0]


def test_option_with_a_line_break_is_rejected():
    form = bind(options=["One\ntwo", "Three"])

    assert not form.is_valid()
    assert "control characters" in form.errors["options"][0]


def test_emoji_joined_sequences_stay_distinct_options():
    form = bind(options=["👩‍💻 Developer", "👨‍👩‍👧 Family"])

    assert form.is_valid(), form.errors
