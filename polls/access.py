from functools import wraps

from django.shortcuts import render

from polls.models import Membership


def member_required(role=Membership.Role.VIEWER):
    """Pass the signed-in member's organisation to the view when their role allows `role`.

    A user with no organisation, or whose role is below `role`, gets a 403 page that explains why.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request.user, "membership", None)
            if membership is None:
                return render(request, "no_organisation.html", status=403)
            if not membership.allows(role):
                context = {"membership": membership, "needed": Membership.Role(role)}
                return render(request, "role_required.html", context, status=403)
            return view(request, membership.organisation, *args, **kwargs)

        return wrapper

    return decorator
