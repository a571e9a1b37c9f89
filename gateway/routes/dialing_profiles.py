"""/api/v1/dialing-profiles: dialing mode, pacing, filtering and treatments."""

from __future__ import annotations

from domain import dialing_profile
from gateway.deps import Supervisor
from gateway.routes.profiles import profile_router
from schemas.profiles import DialingSettings

router = profile_router(
    kind=dialing_profile.KIND,
    prefix="/api/v1/dialing-profiles",
    tag="dialing profiles",
    create=dialing_profile.CreateDialingProfile,
    change=dialing_profile.ChangeDialingProfile,
    settings_type=DialingSettings,
    writer=Supervisor,
)
