from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class HtmxAwareLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Send an htmx request whose session has expired to the login page as a whole page.

    A plain redirect would make htmx swap the login form into the fragment that asked, such
    as one badge in the meeting list.
    """

    def handle_no_permission(self, request, view_func):
        if not request.htmx:
            return super().handle_no_permission(request, view_func)

        current = urlsplit(request.htmx.current_url or "")
        next_path = current.path or "/"
        if current.query:
            next_path += f"?{current.query}"
        login = redirect_to_login(next_path, resolve_url(self.get_login_url(view_func)))
        return HttpResponseClientRedirect(login["Location"])


class RejectUndecodableFormMiddleware:
    """Reject with 400 a URL-encoded form whose bytes are not valid in its character set.

    Django decodes such a form leniently: an invalid percent-escape becomes U+FFFD, and a body
    with invalid raw bytes is read as Latin-1. A garbled question would then be launched as a poll.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # NOTE: multipart bodies are not checked. Django decodes their fields leniently too, but
        # the dashboard's own forms never send multipart; only a hand-made request does.
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            # Reading the body enforces DATA_UPLOAD_MAX_MEMORY_SIZE, as request.POST would.
            encoding = request.encoding or settings.DEFAULT_CHARSET
            try:
                unquote_to_bytes(request.body).decode(encoding)
            except UnicodeDecodeError:
                raise BadRequest(f"The form data is not valid {encoding}.") from None

        return self.get_response(request)
