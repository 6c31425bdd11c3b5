"""Programs that measure the dashboard under load; they are not part of the pytest suite."""
