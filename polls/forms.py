import unicodedata
import uuid
from urllib.parse import urlsplit

from django import forms

from polls.models import Membership

QUESTION_MAX_LENGTH = 300
OPTION_MAX_LENGTH = 120
MIN_OPTIONS = 2
MAX_OPTIONS = 12
# Rows beyond this are rejected before any per-row work, so a crafted form stays cheap to check.
MAX_OPTION_ROWS = 50


CONTROL_CHARACTER_MESSAGE = "{field} cannot contain line breaks, tabs or other control characters."


def has_control_character(text):
    return any(unicodedata.category(char) == "Cc" for char in text)


def comparison_key(text):
    """Return what two options are compared by: case, Unicode form and invisible characters aside.

    Format characters such as the zero-width space are dropped, so "Yes" and "Yes" followed by
    one are the same option to the audience and here.
    """
    normalized = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in normalized if unicodedata.category(char) != "Cf").strip()


class OptionRowsWidget(forms.Widget):
    """Reads every `options` row the browser sent, in order, blank rows included."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])


class OptionsField(forms.Field):
    widget = OptionRowsWidget

    def to_python(self, value):
        rows = value or []
        if len(rows) > MAX_OPTION_ROWS:
            raise forms.ValidationError(f"A poll takes at most {MAX_OPTIONS} options.")
        return [row.strip() for row in rows if comparison_key(row)]

    def validate(self, options):
        if len(options) < MIN_OPTIONS:
            raise forms.ValidationError(f"Give at least {MIN_OPTIONS} options.")
        if len(options) > MAX_OPTIONS:
            raise forms.ValidationError(
                f"A poll takes at most {MAX_OPTIONS} options; this one has {len(options)}."
            )

        if any(has_control_character(text) for text in options):
            raise forms.ValidationError(CONTROL_CHARACTER_MESSAGE.format(field="Options"))

        too_long = [text for text in options if len(text) > OPTION_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(
                f"Each option takes at most {OPTION_MAX_LENGTH} characters; "
                f"one has {len(too_long[0])}."
            )

        seen = set()
        for text in options:
            key = comparison_key(text)
            if key in seen:
                raise forms.ValidationError(
                    f"The option “{text}” appears twice. Make each option different."
                )
            seen.add(key)


class PollForm(forms.Form):
    question = forms.CharField(
        max_length=QUESTION_MAX_LENGTH,
        error_messages={
            "required": "Write the question the audience will answer.",
            "max_length": "The question takes at most %(limit_value)d characters; "
            "this one has %(show_value)d.",
        },
    )
    options = OptionsField()
    anonymous = forms.BooleanField(required=False)
    hide_votes = forms.BooleanField(required=False)
    # A new key for each new form: a second submit of the same form (a double click, a retried
    # request, a second tab) is then recognised and never creates a second poll.
    launch_key = forms.UUIDField(
        initial=uuid.uuid4,
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date. Reload the page and launch again.",
            "invalid": "This form is out of date. Reload the page and launch again.",
        },
    )

    def clean_question(self):
        question = self.cleaned_data["question"]
        if has_control_character(question):
            raise forms.ValidationError(CONTROL_CHARACTER_MESSAGE.format(field="The question"))
        if not comparison_key(question):
            raise forms.ValidationError(self.fields["question"].error_messages["required"])
        return question

    def option_rows(self):
        """Return the rows to show: what the moderator typed, or two empty rows to start."""
        rows = self["options"].value() if self.is_bound else None
        return rows or ["", ""]


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organisation name")
    account_id = forms.RegexField(
        label="Account id",
        regex=r"^[A-Za-z0-9]{1,32}$",
        error_messages={"invalid": "An account id is 1 to 32 letters and digits."},
    )
    app_id = forms.RegexField(
        label="RealtimeKit app id",
        regex=r"^[A-Za-z0-9_-]{1,64}$",
        error_messages={"invalid": "An app id is 1 to 64 letters, digits, '-' and '_'."},
    )
    api_base_url = forms.URLField(max_length=200, assume_scheme="https", label="API base URL")
    api_token = forms.CharField(
        label="API token",
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the current token.",
    )
    observer_preset = forms.RegexField(
        label="Observer preset",
        regex=r"^[A-Za-z0-9_. -]{1,100}$",
        required=False,
        help_text=(
            "The RealtimeKit preset that moderator pages join meetings with to read live "
            "results. It needs “hidden participant” and “polls: can view”. Empty turns live "
            "results off."
        ),
        error_messages={"invalid": "A preset name is letters, digits, spaces, '.', '-' and '_'."},
    )

    def clean_api_base_url(self):
        url = self.cleaned_data["api_base_url"].rstrip("/")
        parts = urlsplit(url)
        # The token travels in every request, so only a local test server may use plain HTTP.
        if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
            raise forms.ValidationError(
                "Use an https:// address; plain http:// is allowed only for 127.0.0.1, "
                "localhost and [::1]."
            )
        return url

    def clean_api_token(self):
        token = self.cleaned_data["api_token"]
        if any(char.isspace() for char in token) or has_control_character(token):
            raise forms.ValidationError(
                "An API token has no spaces or line breaks. Paste it again."
            )
        return token


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
