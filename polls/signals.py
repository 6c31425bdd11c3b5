import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def create_organisation_from_environment(verbosity=1, **kwargs):
    """Create the first organisation from the environment once, so a new install can log in and work.

    Later changes to the environment leave an existing organisation alone: the database is the
    record of the connection from then on.
    """
    from polls.models import Organisation

    if Organisation.objects.exists():
        return

    required = {
        "CLOUDFLARE_ACCOUNT_ID": settings.CLOUDFLARE_ACCOUNT_ID,
        "REALTIMEKIT_APP_ID": settings.REALTIMEKIT_APP_ID,
        "CLOUDFLARE_API_TOKEN": settings.CLOUDFLARE_API_TOKEN,
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        if verbosity:
            logger.warning("No organisation created: %s not set", ", ".join(missing))
        return

    organisation = Organisation.objects.create(
        name=settings.ORGANISATION_NAME,
        account_id=settings.CLOUDFLARE_ACCOUNT_ID,
        app_id=settings.REALTIMEKIT_APP_ID,
        api_token=settings.CLOUDFLARE_API_TOKEN,
        api_base_url=settings.CLOUDFLARE_API_BASE_URL,
        observer_preset=settings.REALTIMEKIT_OBSERVER_PRESET,
    )
    logger.info(
        "Created organisation %r for account %s", organisation.name, organisation.account_id
    )


def poll_saved_or_deleted(sender, instance, **kwargs):
    """Give the meeting's live results a new version, so that pages showing them refresh."""
    from polls import live

    live.results_changed(instance.organisation_id, instance.meeting_id)
