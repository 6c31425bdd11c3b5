import logging

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def home(request):
    return redirect("meeting_list")


class LoginView(auth_views.LoginView):
    template_name = "login.html"
    redirect_authenticated_user = True


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
