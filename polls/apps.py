from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class PollsConfig(AppConfig):
    name = "polls"

    def ready(self):
        from polls.models import Poll
        from polls.signals import create_organisation_from_environment, poll_saved_or_deleted

        post_migrate.connect(create_organisation_from_environment, sender=self)
        post_save.connect(poll_saved_or_deleted, sender=Poll)
        post_delete.connect(poll_saved_or_deleted, sender=Poll)
