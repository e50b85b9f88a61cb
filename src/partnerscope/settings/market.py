"""The ``[market]`` section of ``partnerscope.toml``: the market opportunity map (its grid of
priorities and the thresholds behind it). docs/lifecycle.md explains the grid."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Priority = Annotated[int, Field(ge=1, le=5)]
#: the priorities of one value band for a cell with no partner, thin coverage, good coverage
Row = tuple[Priority, Priority, Priority]


class MarketGrid(_Strict):
    """``[market.grid]``: the priority (1 = recruit first … 5 = last) of each value band, for a
    cell with no partner present, with thin coverage, and covered: ``[none, thin, covered]``."""

    #: the largest cells, together ``high_value_share`` of the total market value
    high: Row = (1, 2, 3)
    #: the next ones, up to ``medium_value_share`` of the total
    medium: Row = (2, 3, 4)
    #: the rest
    low: Row = (4, 5, 5)


class MarketSettings(_Strict):
    """``[market]``: where to recruit partners."""

    #: cells ranked by market value, largest first: those that start before this share of the
    #: total market value is reached are of high value (the cell crossing it included)
    high_value_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    #: the following cells, starting before this share of the total, are of medium value; the
    #: rest of low value
    medium_value_share: Annotated[float, Field(gt=0, le=1)] = 0.8
    #: a cell is covered with at least this many partners present …
    covered_partners: Annotated[int, Field(ge=1)] = 2
    #: … and at least this share of its won revenue through partners; otherwise its coverage
    #: is thin (no partner present at all: none)
    covered_channel_share: Annotated[float, Field(ge=0, le=1)] = 0.3
    #: competition is high from this many competitors present (market sizes' ``competitors``) …
    high_competitors: Annotated[int, Field(ge=1)] = 3
    #: … or from this share of the market held by competitors (``competitor_share``)
    high_competitor_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    #: months of won deals (up to the latest won deal in the warehouse) that tell which
    #: partners are present and the channel's share of the won revenue; 0 = all of them
    months: Annotated[int, Field(ge=0, le=240)] = 12
    #: the priority of each value band by coverage; a cell of low value with high competition
    #: is "Avoid" whatever its coverage
    grid: MarketGrid = Field(default_factory=MarketGrid)

    @model_validator(mode="after")
    def _bands_in_order(self) -> MarketSettings:
        if self.high_value_share > self.medium_value_share:
            raise ValueError(
                f"high_value_share ({self.high_value_share:g}) must not be above "
                f"medium_value_share ({self.medium_value_share:g}): the high-value cells come "
                "first, the medium ones after them"
            )
        return self
