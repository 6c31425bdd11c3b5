class MeetingIdConverter:
    """Matches RealtimeKit meeting ids (UUIDs, or older room names such as `abcdef-ghijkl`).

    Only letters, digits, `-` and `_` pass, so a meeting id can never change the upstream path
    it is placed in.
    """

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
