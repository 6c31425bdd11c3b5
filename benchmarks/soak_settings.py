"""Settings for the dashboard that the soak test starts: the production settings, except that
collectstatic writes to a temporary folder named by SOAK_STATIC_ROOT.

With DJANGO_DEBUG=false, static URLs come from collectstatic's manifest, and the production
STATIC_ROOT is the project's own `staticfiles/` folder, which a soak run should not write to.
"""

import os

from dashboard.settings import *  # noqa: F403

STATIC_ROOT = os.environ["SOAK_STATIC_ROOT"]
