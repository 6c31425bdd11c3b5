from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PollsConfig(AppConfig):
    name = "polls"

    def ready(self):
        from polls.signals import create_organisation_from_environment

        post_migrate.connect(create_organisation_from_environment, sender=self)
