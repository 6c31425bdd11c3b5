from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render

from polls.models import Membership

UserModel = get_user_model()


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


class MemberBackend(ModelBackend):
    """Django's model backend, loading a signed-in user together with their membership and
    organisation: every page needs both, and live fragments are requested every second."""

    def get_user(self, user_id):
        users = UserModel._default_manager.select_related("membership__organisation")
        try:
            user = users.get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
