"""Platform emulator (Certain-style API 2.0): ``create_app``, ``DEFAULT_PORT``, ``seed``.

See docs/sandbox.md for routes, settings, admin routes and the signed-webhook format."""

from sandbox.platform.app import API, DEFAULT_PORT, create_app, seed
from sandbox.platform.seeding import populate
from sandbox.platform.webhooks import EVENT_TYPES, sign

__all__ = ["API", "DEFAULT_PORT", "EVENT_TYPES", "create_app", "populate", "seed", "sign"]
