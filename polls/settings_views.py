"""Pages where an organisation's admins manage the Cloudflare connection and the members."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from polls import budget, observer, organisations
from polls.access import member_required
from polls.forms import AddMemberForm, ConnectionForm, RoleForm
from polls.models import Membership
from polls.realtimekit import RealtimeKitError

ADMIN = Membership.Role.ADMIN


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def connection(request, organisation):
    if request.method == "GET":
        form = ConnectionForm(initial=_connection_fields(organisation))
        return _render_connection(
            request, organisation, form, preset_problem=_preset_problem(organisation)
        )

    form = ConnectionForm(request.POST)
    if not form.is_valid():
        return _render_connection(request, organisation, form, status=422)
    try:
        organisations.save_connection(organisation=organisation, **form.cleaned_data)
    except RealtimeKitError as error:
        return _render_connection(request, organisation, form, error=error, status=422)

    observer.forget_preset_check(organisation)
    messages.success(request, "Connection saved: Cloudflare accepted the token for this app.")
    return redirect("connection_settings")


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def members(request, organisation):
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisations.add_member(organisation=organisation, **form.cleaned_data)
        except organisations.MembershipError as error:
            form.add_error("username", str(error))
        else:
            messages.success(
                request, f"Added {form.cleaned_data['username']} as {form.cleaned_data['role']}."
            )
            return redirect("members")
    return _render_members(request, organisation, form, status=422 if form.errors else 200)


@require_POST
@member_required(ADMIN)
def change_member(request, organisation, pk):
    membership = get_object_or_404(Membership, pk=pk, organisation=organisation)
    form = RoleForm(request.POST)

    try:
        if request.POST.get("action") == "remove":
            organisations.remove_member(membership=membership)
            messages.success(request, f"Removed {membership.user.get_username()}.")
        elif form.is_valid():
            organisations.change_role(membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user.get_username()} is now {membership.role}.")
        else:
            messages.error(request, "Choose one of the listed roles.")
    except organisations.MembershipError as error:
        messages.error(request, str(error))
    return redirect("members")


def _render_connection(request, organisation, form, *, error=None, status=200, preset_problem=None):
    # The preset is checked only when the page is opened: a form sent back with errors must
    # not cause calls to Cloudflare. The budget is read after that check, so it includes the check's call.
    context = {
        "organisation": organisation,
        "form": form,
        "error": error,
        "preset_problem": preset_problem,
        "budget": budget.status_for(organisation),
    }
    return render(request, "connection_settings.html", context, status=status)


def _preset_problem(organisation):
    try:
        return observer.check_preset(organisation).problem
    except RealtimeKitError as error:
        return f"Could not check the observer preset. {error}"


def _render_members(request, organisation, form, *, status=200):
    memberships = organisation.memberships.select_related("user").order_by("user__username")
    context = {"memberships": memberships, "form": form, "roles": Membership.Role.choices}
    return render(request, "members.html", context, status=status)


def _connection_fields(organisation):
    return {
        "name": organisation.name,
        "account_id": organisation.account_id,
        "app_id": organisation.app_id,
        "api_base_url": organisation.api_base_url,
        "observer_preset": organisation.observer_preset,
    }
