"""The ``[escalation]`` section of ``partnerscope.toml``: the levels an unacknowledged alert or
approval climbs, each with its owners and the time it may wait there (docs/notifications.md).

The default is the framework's four levels: partner manager → channel operations → executive
sponsor → CEO.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: the staff roles a level may name (partner users never own an escalation)
STAFF_ROLES = ("admin", "analyst", "finance", "partner_manager")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelSettings(_Strict):
    """``[[escalation.levels]]``: one level."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    #: who owns it: roles ("partner_manager": the partner's own managers) and user names
    roles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    #: hours an item may wait unacknowledged at this level before it goes to the next
    sla_hours: Annotated[float, Field(gt=0)] = 48.0

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in roles if r not in STAFF_ROLES]
        if unknown:
            from partnerscope.errors import did_you_mean

            raise ValueError(
                f"unknown role {unknown[0]!r}: a level's roles are among "
                f"{', '.join(STAFF_ROLES)}{did_you_mean(unknown[0], STAFF_ROLES)}"
            )
        return roles


def _default_levels() -> tuple[LevelSettings, ...]:
    return (
        LevelSettings(name="Partner manager", roles=("partner_manager",), sla_hours=48),
        LevelSettings(name="Channel operations", roles=("analyst",), sla_hours=48),
        LevelSettings(name="Executive sponsor", roles=("admin",), sla_hours=72),
        LevelSettings(name="CEO", roles=("admin",), sla_hours=120),
    )


class EscalationSettings(_Strict):
    enabled: bool = True
    levels: Annotated[tuple[LevelSettings, ...], Field(min_length=1)] = Field(
        default_factory=_default_levels
    )
