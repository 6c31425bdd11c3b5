"""The benchmark's timing middleware."""

import time


class ServerTimingMiddleware:
    """Add `Server-Timing: app;dur=<milliseconds>` with the time spent inside Django.

    The benchmark reads the header to separate the server's time from the client's and the
    network's. Timing stops when the view returns, so a streamed body is not included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        milliseconds = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={milliseconds:.3f}"
        return response
