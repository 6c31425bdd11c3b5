"""Preset bodies for the list and get-by-id endpoints.

Only hidden_participant and polls matter to the dashboard. The other fields are required by
the preset schema of the official `cloudflare` SDK 5.9 and get plausible values chosen for the
sandbox, not Cloudflare's defaults.
"""

from typing import Any

from .errors import NotFound
from .seed import PRESETS, SeedPreset


def preset_summary(preset: SeedPreset) -> dict[str, Any]:
    """Describe a preset as the list endpoint does."""
    return {
        "id": preset.id,
        "name": preset.name,
        "created_at": preset.created_at,
        "updated_at": preset.updated_at,
    }


def find_preset(preset_id: str) -> SeedPreset:
    for preset in PRESETS:
        if preset.id == preset_id:
            return preset
    raise NotFound(f"Preset {preset_id} not found")


def preset_detail(preset: SeedPreset) -> dict[str, Any]:
    """Describe a preset as the get-by-id endpoint does, with config, permissions and UI."""
    return {
        **preset_summary(preset),
        "config": _config(),
        "permissions": _permissions(preset),
        "ui": _ui(),
    }


def _config() -> dict[str, Any]:
    return {
        "max_screenshare_count": 1,
        "max_video_streams": {"desktop": 6, "mobile": 4},
        "media": {
            "screenshare": {"frame_rate": 5, "quality": "hd"},
            "video": {"frame_rate": 30, "quality": "hd", "simulcast": True},
            "audio": {"enable_high_bitrate": False, "enable_stereo": False},
        },
        "view_type": "WEBINAR",
    }


def _permissions(preset: SeedPreset) -> dict[str, Any]:
    moderator = preset.moderator
    visible = not preset.hidden_participant
    return {
        "accept_waiting_requests": moderator,
        "can_accept_production_requests": moderator,
        "can_change_participant_permissions": moderator,
        "can_edit_display_name": visible,
        "can_livestream": moderator,
        "can_record": moderator,
        "can_spotlight": moderator,
        "chat": {
            "private": {
                "can_receive": visible,
                "can_send": visible,
                "files": False,
                "text": visible,
            },
            "public": {"can_send": visible, "files": moderator, "text": visible},
        },
        "connected_meetings": {
            "can_alter_connected_meetings": moderator,
            "can_switch_connected_meetings": moderator,
            "can_switch_to_parent_meeting": moderator,
        },
        "disable_participant_audio": moderator,
        "disable_participant_screensharing": moderator,
        "disable_participant_video": moderator,
        "hidden_participant": preset.hidden_participant,
        "kick_participant": moderator,
        "media": {
            "audio": {"can_produce": preset.media},
            "screenshare": {"can_produce": preset.media},
            "video": {"can_produce": preset.media},
        },
        "pin_participant": moderator,
        "plugins": {
            "can_close": moderator,
            "can_edit_config": moderator,
            "can_start": moderator,
            "config": {},
        },
        "polls": {
            "can_create": preset.polls.can_create,
            "can_view": preset.polls.can_view,
            "can_vote": preset.polls.can_vote,
        },
        "recorder_type": "NONE",
        "show_participant_list": visible,
        "waiting_room_type": "SKIP",
        "is_recorder": False,
    }


def _ui() -> dict[str, Any]:
    return {
        "design_tokens": {
            "border_radius": "rounded",
            "border_width": "thin",
            "colors": {
                "background": {
                    "1000": "#ffffff",
                    "900": "#f5f5f5",
                    "800": "#ebebeb",
                    "700": "#e0e0e0",
                    "600": "#d6d6d6",
                },
                "brand": {
                    "300": "#8fb8ff",
                    "400": "#5c97ff",
                    "500": "#2160fd",
                    "600": "#1a4dcc",
                    "700": "#143a99",
                },
                "danger": "#ff2d2d",
                "success": "#62a504",
                "text": "#111111",
                "text_on_brand": "#ffffff",
                "video_bg": "#1a1a1a",
                "warning": "#ffcd07",
            },
            "spacing_base": 4,
            "theme": "light",
        }
    }
