"""What routing knows about each partner, read once per batch into arrays: the active partners
of the warehouse (country, region, coordinates), the certifications they hold, and from the
latest run their tier, score and measured lead_sla_rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope.geo import centroid, country_code

if TYPE_CHECKING:
    import numpy as np

    from partnerscope.settings.routing import RoutingSettings
    from partnerscope.workspace import Workspace


@dataclass(frozen=True)
class PartnerFacts:
    """Aligned by partner index; ``ids`` are sorted, so an index order is an id order.
    Unknown numbers are NaN; a partner without coordinates is placed at its country's
    centroid when the country is known."""

    ids: list[str]
    country: list[str | None]
    region: list[str | None]
    latitude: np.ndarray[Any, np.dtype[np.float64]]
    longitude: np.ndarray[Any, np.dtype[np.float64]]
    certifications: list[frozenset[str]]
    #: effective tier in the ruleset of ``[routing.top]`` / ``[routing.weights]``
    top_tier: list[str | None]
    weight_tier: list[str | None]
    score: np.ndarray[Any, np.dtype[np.float64]]
    score_percentile: np.ndarray[Any, np.dtype[np.float64]]
    sla_rate: np.ndarray[Any, np.dtype[np.float64]]
    #: the run tiers, scores and SLA rates come from (None: no evaluated run yet)
    run_id: int | None = None

    @classmethod
    def build(
        cls,
        ids: list[str],
        *,
        country: list[str | None] | None = None,
        region: list[str | None] | None = None,
        latitude: list[float | None] | None = None,
        longitude: list[float | None] | None = None,
        certifications: list[frozenset[str]] | None = None,
        top_tier: list[str | None] | None = None,
        weight_tier: list[str | None] | None = None,
        score: list[float | None] | None = None,
        score_percentile: list[float | None] | None = None,
        sla_rate: list[float | None] | None = None,
        run_id: int | None = None,
    ) -> PartnerFacts:
        """Facts from plain lists aligned with ``ids`` (sorted here); missing lists are
        unknown for every partner."""
        import numpy as np

        n = len(ids)
        order = sorted(range(n), key=ids.__getitem__)

        def pick(values: list[Any] | None, empty: Any = None) -> list[Any]:
            return [empty] * n if values is None else [values[i] for i in order]

        def numbers(values: list[float | None] | None) -> np.ndarray[Any, np.dtype[np.float64]]:
            return np.array([np.nan if v is None else float(v) for v in pick(values)], dtype=float)

        codes = [country_code(c) for c in pick(country)]
        lat, lon = numbers(latitude), numbers(longitude)
        for i, code in enumerate(codes):
            where = centroid(code)
            if where is not None and (np.isnan(lat[i]) or np.isnan(lon[i])):
                lat[i], lon[i] = where
        return cls(
            ids=[ids[i] for i in order],
            country=codes,
            region=pick(region),
            latitude=lat,
            longitude=lon,
            certifications=pick(certifications, frozenset()),
            top_tier=pick(top_tier),
            weight_tier=pick(weight_tier),
            score=numbers(score),
            score_percentile=numbers(score_percentile),
            sla_rate=numbers(sla_rate),
            run_id=run_id,
        )

    def __len__(self) -> int:
        return len(self.ids)


def load_facts(workspace: Workspace, settings: RoutingSettings, today: date) -> PartnerFacts:
    """The active partners of the warehouse with their certifications valid on ``today``, and
    what the latest evaluated run says about them."""
    with workspace.warehouse(read_only=True) as warehouse:
        partners = warehouse.con.execute(
            "SELECT partner_id, country, region, latitude, longitude FROM partners "
            "WHERE coalesce(status, 'active') = 'active' ORDER BY partner_id"
        ).fetchall()
        held = warehouse.con.execute(
            "SELECT DISTINCT partner_id, certification FROM certifications "
            "WHERE issued_at <= ? AND (expires_at IS NULL OR expires_at >= ?)",
            [today, today],
        ).fetchall()
    certs: dict[str, set[str]] = {}
    for pid, name in held:
        certs.setdefault(pid, set()).add(name)
    ids = [row[0] for row in partners]
    run = _run_facts(workspace, settings, ids)
    return PartnerFacts.build(
        ids,
        country=[row[1] for row in partners],
        region=[row[2] for row in partners],
        latitude=[row[3] for row in partners],
        longitude=[row[4] for row in partners],
        certifications=[frozenset(certs.get(pid, ())) for pid in ids],
        **run,
    )


def _latest(table: Any, columns: list[str]) -> dict[str, dict[str, Any]]:
    """Each partner's values in its latest period of ``table``, ignoring missing values."""
    latest: dict[str, dict[str, Any]] = {}
    rows = table.select(["partner_id", "period_start", *columns]).sort_by("period_start")
    for row in rows.to_pylist():
        mine = latest.setdefault(row["partner_id"], {})
        mine.update({c: row[c] for c in columns if row[c] is not None})
    return latest


def _run_facts(workspace: Workspace, settings: RoutingSettings, ids: list[str]) -> dict[str, Any]:
    """Tier, score and lead_sla_rate of each partner in the latest run (none without a run)."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.evaluation.view import RunData

    try:
        data = RunData(workspace)
        cards = _latest(data.scorecards.table, ["score", "score_percentile"])
        tiers = data.tiers.table
    except PartnerscopeError:
        return {}
    import pyarrow.compute as pc

    def tier_of(ruleset: str) -> dict[str, Any]:
        mine = tiers.filter(pc.equal(tiers["ruleset"], ruleset))
        return {pid: v.get("effective") for pid, v in _latest(mine, ["effective"]).items()}

    results = data.results().table.rename_columns(
        ["partner_id" if c == "group_key" else c for c in data.results().table.column_names]
    )
    sla = _latest(results, ["lead_sla_rate"])
    top, weight = tier_of(settings.top.ruleset), tier_of(settings.weights.ruleset)
    return {
        "top_tier": [top.get(pid) for pid in ids],
        "weight_tier": [weight.get(pid) for pid in ids],
        "score": [cards.get(pid, {}).get("score") for pid in ids],
        "score_percentile": [cards.get(pid, {}).get("score_percentile") for pid in ids],
        "sla_rate": [sla.get(pid, {}).get("lead_sla_rate") for pid in ids],
        "run_id": data.run.run_id,
    }
