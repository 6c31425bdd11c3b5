import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from polls.models import Membership, Organisation
from sandbox import seed

DEMO_ORGANISATION = "Demo organisation"
DEMO_USERNAME = "demo"
SANDBOX_START_TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Run the dashboard against the bundled RealtimeKit sandbox: migrate, create the demo "
        "moderator, start the sandbox and the development server, and stop both on Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT", 8787))
        )
        parser.add_argument("--port", type=int, default=int(os.environ.get("DASHBOARD_PORT", 8000)))

    def handle(self, *args, sandbox_port, port, **options):
        if not settings.DEBUG:
            raise CommandError(
                "The demo runs only with DJANGO_DEBUG=true: it creates a user whose password is 'demo'."
            )

        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self._stopping = threading.Event()
        # Observer pages load the sandbox's stand-in for RealtimeKit's browser SDK.
        if not settings.REALTIMEKIT_SDK_URL:
            settings.REALTIMEKIT_SDK_URL = f"{sandbox_url}/sandbox/sdk.js"
        # runserver ends the process at once when its port is taken, which would leave the
        # sandbox running: the port is checked before anything starts.
        _check_port_free(port)
        call_command("migrate", interactive=False, verbosity=0)

        sandbox = self._start_sandbox(sandbox_port)
        # Only now: a run that fails on a port must not point a running demo at another sandbox.
        self._set_up_demo_moderator(sandbox_url)
        # SIGTERM (from `kill` or a process manager) then stops the sandbox too, as Ctrl-C does.
        # Ctrl-C is set explicitly: a shell that starts a program in the background makes it
        # ignore SIGINT, and the sandbox alone would stop.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # A dashboard without its sandbox only shows connection errors, so it stops too.
        threading.Thread(target=self._stop_when_gone, args=(sandbox,), daemon=True).start()
        try:
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDashboard: http://127.0.0.1:{port}/  (log in as demo / demo)"
                )
                + f"\nSandbox:   {sandbox_url}/sandbox/meetings  (see sandbox/README.md)"
                + "\nPress Ctrl-C to stop both.\n"
            )
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            self._stopping.set()
            _stop(sandbox)
            self.stdout.write("Stopped the dashboard and the sandbox.")

    def _set_up_demo_moderator(self, sandbox_url):
        organisation, _ = Organisation.objects.update_or_create(
            name=DEMO_ORGANISATION,
            defaults={
                "account_id": seed.ACCOUNT_ID,
                "app_id": seed.APP_ID,
                "api_token": seed.API_TOKEN,
                "api_base_url": f"{sandbox_url}/client/v4",
                "observer_preset": "observer",
            },
        )
        user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password("demo")
            user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"organisation": organisation, "role": Membership.Role.ADMIN}
        )

    def _stop_when_gone(self, sandbox):
        status = sandbox.wait()
        # Ctrl-C reaches the sandbox too, which may exit before the dashboard starts stopping.
        if self._stopping.wait(timeout=1):
            return
        self.stderr.write(
            f"The sandbox stopped (exit status {status}), so the dashboard stops too. "
            "Run make demo again to restart both."
        )
        os.kill(os.getpid(), signal.SIGTERM)

    def _start_sandbox(self, sandbox_port):
        """Start the sandbox and return it once it listens, or raise CommandError."""
        sandbox = subprocess.Popen(
            # The demo's database outlives the sandbox: sessions of a new run need new ids.
            [
                sys.executable,
                "-m",
                "sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                str(sandbox_port),
                "--fresh-sessions",
            ],
            cwd=Path(settings.BASE_DIR),
            stdout=subprocess.PIPE,
            text=True,
        )
        # The sandbox prints one line once it listens, and exits at once when the port is taken.
        ready, _, _ = select.select([sandbox.stdout], [], [], SANDBOX_START_TIMEOUT_SECONDS)
        line = sandbox.stdout.readline() if ready else ""
        if not line.startswith("Sandbox listening on "):
            _stop(sandbox)
            raise CommandError(
                f"The sandbox did not start on port {sandbox_port}: is another program using it? "
                "Stop that program or set SANDBOX_PORT to a free port, e.g. "
                f"make demo SANDBOX_PORT={sandbox_port + 1}."
            )
        return sandbox


def _check_port_free(port):
    """Raise CommandError when another program listens on the dashboard's port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise CommandError(
                f"Port {port} for the dashboard is in use: is another program, or another demo, "
                "using it? Stop that program or set DASHBOARD_PORT to a free port, e.g. "
                f"make demo DASHBOARD_PORT={port + 1}."
            ) from None


def _exit_on_sigterm(signum, frame):
    sys.exit(0)


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
