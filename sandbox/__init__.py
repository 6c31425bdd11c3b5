"""Stand-in server for the parts of Cloudflare's RealtimeKit API that the dashboard uses.

Run it with ``python -m sandbox``; see README.md in this folder.
"""
