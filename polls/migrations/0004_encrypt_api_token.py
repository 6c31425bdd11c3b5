from django.db import migrations, models

from polls.tokens import encrypt_token, token_hint


def encrypt_stored_tokens(apps, schema_editor):
    Organisation = apps.get_model("polls", "Organisation")
    for organisation in Organisation.objects.all():
        organisation.api_token_encrypted = encrypt_token(organisation.api_token)
        organisation.api_token_hint = token_hint(organisation.api_token)
        organisation.save(update_fields=["api_token_encrypted", "api_token_hint"])


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0003_poll_launch_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="api_token_encrypted",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="organisation",
            name="api_token_hint",
            field=models.CharField(blank=True, max_length=8),
        ),
        # Tokens stored in plain text before this migration are encrypted, then dropped.
        migrations.RunPython(encrypt_stored_tokens, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="organisation",
            name="api_token",
        ),
    ]
