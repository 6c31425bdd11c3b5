"""The dashboard's URLs plus the benchmark's baseline: a view that returns a constant.

The baseline passes through the same middleware as every dashboard view, login check
included, so the time a live fragment takes beyond it is the fragment's own work.
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from benchmarks.bench_client import BASELINE_PATH
from dashboard.urls import urlpatterns as dashboard_urlpatterns


@require_GET
def constant(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path(BASELINE_PATH, constant, name="bench_constant"), *dashboard_urlpatterns]
