import logging
import math

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard import throttle

logger = logging.getLogger(__name__)


def home(request):
    return redirect("meeting_list")


class LoginView(auth_views.LoginView):
    """Django's login view, which counts failed attempts and rejects them with 429 past the limits."""

    template_name = "login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # A locked-out username or address gets no password check at all.
        seconds = throttle.lockout_seconds(**self._attempt())
        if seconds:
            return self._locked_out(seconds)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        throttle.reset_username(username=self._attempt()["username"])
        return super().form_valid(form)

    def form_invalid(self, form):
        # A blank field is not an attempt: only a wrong username or password counts.
        if not form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            return super().form_invalid(form)

        throttle.record_failure(**self._attempt())
        seconds = throttle.lockout_seconds(**self._attempt())
        if seconds:
            return self._locked_out(seconds)
        return super().form_invalid(form)

    def _attempt(self):
        return {
            "username": self.request.POST.get("username", ""),
            "address": self.request.META.get("REMOTE_ADDR", ""),
        }

    def _locked_out(self, seconds):
        # An unbound form: rendering a bound one would validate it, and so check the password.
        form = self.get_form_class()(
            request=self.request, initial={"username": self._attempt()["username"]}
        )
        context = self.get_context_data(form=form, lockout_minutes=math.ceil(seconds / 60))
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(seconds)
        return response


@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database(), "cache": _check_cache()}
    healthy = all(state == "ok" for state in checks.values())

    return JsonResponse(
        {"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503
    )


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.error("Health check: database failed: %s", error)
        return "failing"
    return "ok"


def _check_cache():
    try:
        cache.set("healthz", "ok", timeout=5)
        value = cache.get("healthz")
    except Exception as error:  # noqa: BLE001 - any cache backend error means the cache is down
        logger.error("Health check: cache failed: %s", error)
        return "failing"
    return "ok" if value == "ok" else "failing"
