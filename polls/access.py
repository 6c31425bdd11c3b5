from functools import wraps

from django.shortcuts import render


def organisation_required(view):
    """Pass the signed-in moderator's organisation to the view, or explain why there is none."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = getattr(request.user, "membership", None)
        if membership is None:
            return render(request, "no_organisation.html", status=403)
        return view(request, membership.organisation, *args, **kwargs)

    return wrapper
