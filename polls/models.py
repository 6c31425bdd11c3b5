from django.conf import settings
from django.db import models

from polls.tokens import decrypt_token, encrypt_token, token_hint


class Organisation(models.Model):
    """A team and the Cloudflare RealtimeKit app its moderators work in."""

    name = models.CharField(max_length=200)
    account_id = models.CharField(max_length=32)
    app_id = models.CharField(max_length=64)
    # Encrypted with TOKEN_ENCRYPTION_KEYS; read and written through `api_token`.
    api_token_encrypted = models.TextField()
    # A masked form of the token that pages may show, such as `…8f3a`.
    api_token_hint = models.CharField(max_length=8, blank=True)
    api_base_url = models.URLField(default="https://api.cloudflare.com/client/v4")
    # The preset that observer participants join with: it should make them hidden and let them
    # view polls, which is how the dashboard reads live results.
    observer_preset = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return self.name

    @property
    def api_token(self):
        """The API token in plain text: only the RealtimeKit client should read it."""
        return decrypt_token(self.api_token_encrypted)

    @api_token.setter
    def api_token(self, token):
        self.api_token_encrypted = encrypt_token(token)
        self.api_token_hint = token_hint(token)


class Membership(models.Model):
    """Ties a moderator to the one organisation whose meetings they work on, with a role."""

    class Role(models.TextChoices):
        # Listed from least to most allowed: each role may do all that the ones before it may.
        VIEWER = "viewer", "Viewer: watches polls and results"
        HOST = "host", "Host: also launches polls and exports results"
        ADMIN = "admin", "Admin: also manages the connection and the members"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.role})"

    def allows(self, role):
        """Return whether this member's role includes what `role` may do."""
        ranks = list(self.Role)
        return ranks.index(self.Role(self.role)) >= ranks.index(self.Role(role))


class Poll(models.Model):
    """A poll launched into a meeting's live session, as Cloudflare returned it.

    The row is written before Cloudflare is called, keyed by the launch key of the form that
    sent it, so a second submit of the same form finds it instead of creating a second poll.
    """

    class Status(models.TextChoices):
        LAUNCHING = "launching", "Launching"
        LAUNCHED = "launched", "Launched"
        # The request was sent but no response came back: the poll may or may not exist.
        UNCONFIRMED = "unconfirmed", "Unconfirmed"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="polls")
    meeting_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64, blank=True)
    launch_key = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.LAUNCHED)
    # Empty until Cloudflare has returned the poll.
    upstream_id = models.CharField(max_length=64, blank=True)
    question = models.TextField()
    anonymous = models.BooleanField(default=False)
    hide_votes = models.BooleanField(default=False)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    launched_at = models.DateTimeField(auto_now_add=True)
    # Who created the poll inside the meeting, as RealtimeKit reports it, for polls that
    # someone other than the dashboard launched.
    created_by = models.CharField(max_length=200, blank=True)
    total_votes = models.PositiveIntegerField(default=0)
    # Bumped by every recorded change of the counts, so a page can ask "anything new?" cheaply.
    version = models.PositiveIntegerField(default=0)
    # When an observer last reported a change of this poll.
    results_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-launched_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "upstream_id"],
                condition=~models.Q(upstream_id=""),
                name="unique_upstream_poll",
            ),
            models.UniqueConstraint(
                fields=["organisation", "launch_key"], name="unique_launch_key"
            ),
        ]

    def __str__(self):
        return self.question

    @property
    def leading_count(self):
        """The highest count among the options, read from the prefetched options."""
        return max((option.count for option in self.options.all()), default=0)


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=255)
    count = models.PositiveIntegerField(default=0)
    # [{"id": ..., "name": ...}] for each vote; always empty for an anonymous poll.
    voters = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="unique_option_position")
        ]

    def __str__(self):
        return self.text


class MeetingFeed(models.Model):
    """The last report of one meeting's observers: the dashboard's only sign that a moderator
    page is open on the meeting and forwarding its polls."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting_id = models.CharField(max_length=64)
    # The live session the observers joined; polls they report without a launch belong to it.
    session_id = models.CharField(max_length=64, blank=True)
    last_reported_at = models.DateTimeField(null=True, blank=True)
    # Set when an observer saw the session end; cleared when a new session is observed.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "meeting_id"], name="unique_feed")
        ]

    def __str__(self):
        return f"Feed of meeting {self.meeting_id}"


class Observer(models.Model):
    """The hidden participant through which one moderator's page watches one meeting.

    It is minted once and reused, so reopening the page does not add participants to the
    meeting. Only its token is refreshed, when RealtimeKit rejects it.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    meeting_id = models.CharField(max_length=64)
    participant_id = models.CharField(max_length=64)
    # Encrypted like the API token: it lets its holder join the meeting.
    token_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    token_refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user", "meeting_id"], name="unique_observer"
            )
        ]

    def __str__(self):
        return f"Observer {self.participant_id} of meeting {self.meeting_id}"

    @property
    def token(self):
        return decrypt_token(self.token_encrypted)

    @token.setter
    def token(self, token):
        self.token_encrypted = encrypt_token(token)
