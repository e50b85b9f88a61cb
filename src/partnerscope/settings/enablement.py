"""The ``[enablement]`` section of ``partnerscope.toml``: certification paths and levels, their
prerequisites and validity, and what each program tier requires.

The defaults are the framework's two paths::

    sales      Sales Foundation → Sales Advanced → Sales Master
    technical  Implementation Specialist → Solutions Architect → Master Technical Specialist

Each level needs the level below it on its path (``requires`` names others, on any path);
Sales Foundation never lapses, the other levels are valid for 24 months (a level's
``validity_months``: 0 never lapses, unset 24), and a new record of the
same certification for the same person issued within ``renewal_window_days`` before the old
one expires is its renewal. A workspace that writes ``[[enablement.paths.<key>.levels]]``
replaces the default paths with its own. ``[enablement.aliases]`` maps the workspace's own
certification names to levels; ``[enablement.tiers]`` (optional) lists the levels each program
tier requires and is then posted as the ``certification_requirements`` of every run
(docs/lifecycle.md, "Enablement paths").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from partnerscope.errors import did_you_mean
from partnerscope.settings.graph import find_cycle


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: a level's validity in months unless it says otherwise
LEVEL_VALIDITY = 24


class LevelSettings(_Strict):
    """One certification level: ``[[enablement.paths.<key>.levels]]``."""

    #: the certification's name, as people know it (and as the data names it, or an alias)
    name: Annotated[str, Field(min_length=1, max_length=100)]
    #: the levels someone at the partner must hold before this one; unset: the level below
    #: on its path (none for the first); ``[]``: none
    requires: tuple[str, ...] | None = None
    #: months a certificate stays valid when the data gives no expiry date; 0: never lapses
    #: (a foundation-type level); unset: 24
    validity_months: Annotated[int, Field(ge=0, le=240)] | None = None
    #: a new record of this certification for the same person issued within this many days
    #: before the old one expires renews it (no expiry warning for the old one)
    renewal_window_days: Annotated[int, Field(ge=0, le=730)] = 90


class PathSettings(_Strict):
    """One certification path: ``[enablement.paths.<key>]``."""

    #: the path's name on pages ("Sales"); unset: the key, capitalized
    label: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    #: its levels from the first (rank 1) to the highest
    levels: Annotated[tuple[LevelSettings, ...], Field(min_length=1)]


def _default_paths() -> dict[str, PathSettings]:
    def path(label: str, *levels: str | LevelSettings) -> PathSettings:
        return PathSettings(
            label=label,
            levels=tuple(
                lv if isinstance(lv, LevelSettings) else LevelSettings(name=lv) for lv in levels
            ),
        )

    foundation = LevelSettings(name="Sales Foundation", validity_months=0)
    return {
        "sales": path("Sales", foundation, "Sales Advanced", "Sales Master"),
        "technical": path(
            "Technical",
            "Implementation Specialist",
            "Solutions Architect",
            "Master Technical Specialist",
        ),
    }


class Level(BaseModel):
    """A level with its defaults applied (what the rest of partnerscope reads)."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    path_label: str
    rank: int
    requires: tuple[str, ...]
    validity_months: int
    renewal_window_days: int


class EnablementSettings(_Strict):
    """``[enablement]``: certification paths, aliases, tier requirements and warnings."""

    #: path key → path (``[enablement.paths.<key>]``); writing any replaces the defaults
    paths: dict[str, PathSettings] = Field(default_factory=_default_paths)
    #: the workspace's certification name → a level's name ("SF-101" =
    #: "Sales Foundation"); names are also matched ignoring case and spaces around them
    aliases: dict[str, str] = Field(default_factory=dict)
    #: program tier → the levels it requires (``Gold = ["Sales Foundation", ...]``); when set,
    #: posted as the canonical certification_requirements by every run (a complete file:
    #: enablement_completion and tier rules read it). Unset: the workspace's own requirements
    tiers: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: the program tiers from the lowest to the highest (what "the next tier" is); unset: the
    #: order of ``[enablement.tiers]``, else the requirements' tiers by how many they require
    tier_order: tuple[str, ...] = ()
    #: certifications expiring within this many days are listed as expiring
    expiry_warning_days: Annotated[int, Field(ge=1, le=730)] = 60
    #: certifications that lapsed within this many days and were not renewed are listed
    lapsed_days: Annotated[int, Field(ge=1, le=3650)] = 365

    @model_validator(mode="after")
    def _check(self) -> EnablementSettings:
        problems: list[str] = []
        seen: dict[str, str] = {}
        for key, path in self.paths.items():
            for i, level in enumerate(path.levels):
                if level.name in seen:
                    problems.append(
                        f"paths.{key}.levels[{i}].name: {level.name!r} is already a level of "
                        f"path {seen[level.name]!r}; a level belongs to one path"
                    )
                seen.setdefault(level.name, key)
        for key, path in self.paths.items():
            for i, level in enumerate(path.levels):
                for other in level.requires or ():
                    if other not in seen:
                        problems.append(
                            f"paths.{key}.levels[{i}].requires: no level {other!r}"
                            f"{did_you_mean(other, seen)}"
                        )
        for alias, name in self.aliases.items():
            if name not in seen:
                problems.append(f"aliases.{alias!r}: no level {name!r}{did_you_mean(name, seen)}")
        for tier, names in self.tiers.items():
            for name in names:
                if name not in seen:
                    problems.append(
                        f"tiers.{tier}: no level {name!r}{did_you_mean(name, seen)} "
                        "(name a level of [enablement.paths])"
                    )
        twice = sorted({t for t in self.tier_order if self.tier_order.count(t) > 1})
        if twice:
            problems.append(f"tier_order: tier {twice[0]!r} is listed twice")
        if self.tiers and self.tier_order:
            for tier in self.tiers:
                if tier not in self.tier_order:
                    problems.append(
                        f"tiers.{tier}: not in tier_order{did_you_mean(tier, self.tier_order)} "
                        "(add it there, lowest tier first)"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        levels = self.levels()
        cycle = find_cycle({n: lv.requires for n, lv in levels.items()})
        if cycle:
            raise ValueError(
                "a cycle of prerequisites: "
                + " → ".join(cycle)
                + " (remove one of them from a level's requires)"
            )
        return self

    def levels(self) -> dict[str, Level]:
        """Every level by name, path after path, with its defaults applied."""
        out: dict[str, Level] = {}
        for key, path in self.paths.items():
            for i, level in enumerate(path.levels):
                requires = level.requires
                if requires is None:
                    requires = (path.levels[i - 1].name,) if i else ()
                validity = level.validity_months
                if validity is None:
                    validity = LEVEL_VALIDITY
                out[level.name] = Level(
                    name=level.name,
                    path=key,
                    path_label=path.label or key.replace("_", " ").capitalize(),
                    rank=i + 1,
                    requires=tuple(requires),
                    validity_months=validity,
                    renewal_window_days=level.renewal_window_days,
                )
        return out
