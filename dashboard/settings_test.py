"""Settings for the test suite: the production settings with throwaway keys and plain static files."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key-never-used-outside-the-test-suite")
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "c3snWBln57zptMO4Vzwh80mCfb55KG-kGqBSyr4KkJI=")

from dashboard.settings import *  # noqa: E402, F403

# The manifest storage needs collectstatic first; tests render templates without it.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client and the browser tests' live server speak plain HTTP, which the redirect would
# send to an https:// address that nothing serves.
SECURE_SSL_REDIRECT = False
# Retries back off in real time; one retry keeps fault tests quick while still exercising it.
REALTIMEKIT_READ_RETRIES = 1
# Each test builds the organisations it needs; none comes from the developer's environment.
CLOUDFLARE_ACCOUNT_ID = REALTIMEKIT_APP_ID = CLOUDFLARE_API_TOKEN = ""

# The browser tests' live server handles requests in several threads at once. An in-memory
# SQLite database would be one connection shared by all of them, which SQLite does not allow, so
# the test database is a file: each thread then opens its own connection.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"poll-dashboard-test-{os.getpid()}.sqlite3")
    }
# Tests change the sandbox's sessions and read them back at once, so reads are not reused
# between requests. The tests of the shared reads turn the window on where they need it.
REALTIMEKIT_READ_FRESH_SECONDS = 0
# The suite runs in one process, so the local-memory cache is shared by all its threads.
CACHE_SHARED = True
