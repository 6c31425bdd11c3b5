from urllib.parse import urlsplit

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
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
