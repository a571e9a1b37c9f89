"""/api/v1/session-profiles: part of the product's Settings page, so only admins change them."""

from __future__ import annotations

from domain import session_profile
from gateway.deps import Admin
from gateway.routes.profiles import profile_router
from schemas.profiles import SessionSettings

router = profile_router(
    kind=session_profile.KIND,
    prefix="/api/v1/session-profiles",
    tag="session profiles",
    create=session_profile.CreateSessionProfile,
    change=session_profile.ChangeSessionProfile,
    settings_type=SessionSettings,
    writer=Admin,
)
