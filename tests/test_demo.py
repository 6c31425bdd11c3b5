"""`manage.py demo`, which `make demo` runs: the checks it makes before serving."""

import socket

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from polls.models import Organisation


@override_settings(DEBUG=False)
def test_demo_refuses_to_run_without_debug(db):
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("demo")


@override_settings(DEBUG=True)
def test_demo_stops_when_the_sandbox_port_is_taken(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"did not start on port {port}"):
            call_command("demo", sandbox_port=port, port=0)

    organisation = Organisation.objects.get()
    assert organisation.api_base_url == f"http://127.0.0.1:{port}/client/v4"
    assert authenticate(username="demo", password="demo").membership.organisation == organisation
