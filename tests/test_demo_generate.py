"""The demo generator: deterministic files, a loadable config, and the planted patterns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from partnerscope.config import load_config, source_files
from partnerscope.demo import DemoManifest, generate_demo

SCALE = 0.02
LAST_Q = date(2026, 7, 1)


@dataclass
class Demo:
    root: Path
    manifest: DemoManifest
    progress: list[tuple[str, int]]
    con: duckdb.DuckDBPyConnection


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    calls: list[tuple[str, int]] = []
    manifest = generate_demo(
        root,
        scale=SCALE,
        seed=42,
        progress=lambda s, n: calls.append((s, n)),
    )
    con = duckdb.connect()
    data = root / "data"
    con.execute(
        f"CREATE VIEW opp AS SELECT *, date_trunc('quarter', CAST(CloseDate AS DATE)) AS close_q,"
        f" date_trunc('quarter', CAST(CreatedDate AS TIMESTAMP)) AS created_q"
        f" FROM read_csv('{data / 'opportunities.csv'}', all_varchar = true)"
    )
    con.execute(f"CREATE VIEW leads AS SELECT * FROM '{data / 'leads.parquet'}'")
    con.execute(f"CREATE VIEW checks AS SELECT * FROM read_csv('{data / 'compliance_checks.csv'}')")
    return Demo(root, manifest, calls, con)


def _partner_rows(root: Path) -> list[dict[str, object]]:
    sheet = CalamineWorkbook.from_path(str(root / "data" / "partners.xlsx")).get_sheet_by_name(
        "Partners"
    )
    header, *rows = sheet.to_python()
    return [dict(zip(map(str, header), row, strict=True)) for row in rows]


def _one(demo: Demo, sql: str, params: list[object] | None = None) -> tuple[Any, ...]:
    """The single row a query returns."""
    row = demo.con.execute(sql, params or []).fetchone()
    assert row is not None
    return row


# ---------------------------------------------------------------- files and config


def test_same_seed_gives_byte_identical_files(demo: Demo, tmp_path: Path) -> None:
    again = generate_demo(tmp_path, scale=SCALE, seed=42)
    assert again.rows == demo.manifest.rows
    for name, path in demo.manifest.files.items():
        assert again.files[name].read_bytes() == path.read_bytes(), name
    for extra in ("partnerscope.toml", "data/planted.json"):
        assert (tmp_path / extra).read_bytes() == (demo.root / extra).read_bytes()


def test_another_seed_gives_other_data(demo: Demo, tmp_path: Path) -> None:
    other = generate_demo(tmp_path, scale=SCALE, seed=7)
    assert other.files["opportunities"].read_bytes() != (
        demo.manifest.files["opportunities"].read_bytes()
    )


def test_config_loads_and_maps_every_file(demo: Demo) -> None:
    config = load_config(demo.root / "partnerscope.toml")
    assert set(config.sources) == set(demo.manifest.files)
    for name, source in config.sources.items():
        assert source_files(demo.root, source) == [demo.manifest.files[name]]
        assert demo.manifest.files[name].stat().st_size > 0
    assert config.sources["opportunities"].mapping("status") is not None  # from the preset
    assert config.sources["quotas"].entity == "targets"


def test_manifest_window_progress_and_planted_json(demo: Demo) -> None:
    assert (demo.manifest.period_start, demo.manifest.period_end) == (
        date(2023, 10, 1),
        date(2026, 9, 30),
    )
    assert demo.progress == list(demo.manifest.rows.items())
    planted = json.loads((demo.root / "data" / "planted.json").read_text(encoding="utf-8"))
    assert planted == demo.manifest.planted


def test_row_counts_scale(demo: Demo, tmp_path: Path) -> None:
    rows = demo.manifest.rows
    # 0.02 would be 20 partners; the generator keeps 40 so that every pattern exists
    assert rows["partners"] == 40
    assert 40 * 400 <= rows["opportunities"] <= 40 * 600
    assert 40 * 1_700 <= rows["leads"] <= 40 * 2_300
    assert rows["accounts"] == 40 * 20
    assert rows["certification_requirements"] == 13
    bigger = generate_demo(tmp_path, scale=0.1, seed=42).rows
    assert bigger["partners"] == 100
    for name in ("opportunities", "leads", "surveys", "quotas", "compliance_checks"):
        assert 2.0 <= bigger[name] / rows[name] <= 3.0, name


def test_surveys_are_utf16_with_bom_and_berlin_local_times(demo: Demo) -> None:
    raw = demo.manifest.files["surveys"].read_bytes()
    assert raw[:2] == b"\xff\xfe"
    lines = raw[2:].decode("utf-16-le").splitlines()
    assert lines[0] == '"Response ID";"Partner";"Survey Type";"Score";"Responded At";"Comment"'
    berlin = ZoneInfo("Europe/Berlin")
    for line in lines[1:]:
        local = datetime.strptime(line.split(";")[4].strip('"'), "%d.%m.%Y %H:%M:%S")
        # generated between 06:00 and 18:00 UTC, whatever the daylight-saving offset
        assert 6 <= local.replace(tzinfo=berlin).astimezone(UTC).hour < 18, line


def test_partner_file_uses_display_labels_the_config_maps(demo: Demo) -> None:
    config = load_config(demo.root / "partnerscope.toml")
    mapping = config.sources["partners"].mapping("partner_type")
    assert mapping is not None
    partners = _partner_rows(demo.root)
    assert {p["Partner Type"] for p in partners} == set(mapping.map)
    assert all(isinstance(p["Join Date"], date) for p in partners)


# ---------------------------------------------------------------- plausible data


def test_opportunities_look_like_a_salesforce_export(demo: Demo) -> None:
    (direct, win_rate, currencies, bad_close, open_past, direct_attr) = _one(demo, """
        SELECT avg((PartnerAccountId IS NULL)::INT),
               avg(CASE WHEN IsClosed = 'true' THEN (IsWon = 'true')::INT END),
               string_agg(DISTINCT CurrencyIsoCode, ',' ORDER BY CurrencyIsoCode),
               count(*) FILTER (WHERE IsClosed = 'true'
                                AND CAST(CloseDate AS DATE) <= CAST(CreatedDate AS DATE)),
               count(*) FILTER (WHERE IsClosed = 'false'
                                AND CAST(CloseDate AS DATE) < DATE '2026-10-01'),
               count(*) FILTER (WHERE PartnerAccountId IS NULL
                                AND Partner_Attribution__c IS NOT NULL)
        FROM opp""")  # fmt: skip
    assert 0.07 <= direct <= 0.13
    assert 0.2 <= win_rate <= 0.4
    assert currencies == "EUR,GBP,USD"
    assert (bad_close, open_past, direct_attr) == (0, 0, 0)
    assert _one(demo, "SELECT count(*) FROM opp WHERE IsWon = 'true' AND IsClosed <> 'true'") == (
        0,
    )


def test_every_money_row_finds_an_fx_rate(demo: Demo) -> None:
    data = demo.root / "data"
    first_rate, last_rate = _one(
        demo,
        f"SELECT min(strptime(Date, '%m/%d/%Y')), max(strptime(Date, '%m/%d/%Y'))"
        f" FROM read_csv('{data / 'fx_rates.csv'}', all_varchar = true)",
    )
    (earliest,) = _one(demo, f"""
        SELECT least(
          (SELECT min(CAST(CreatedDate AS TIMESTAMP)) FROM opp),
          (SELECT min(assigned_ts)::TIMESTAMP FROM leads),
          (SELECT min(strptime("Request Date", '%m/%d/%Y'))
             FROM read_csv('{data / 'mdf_activities.csv'}', all_varchar = true)),
          (SELECT min(strptime("Quarter Start", '%m/%d/%Y'))
             FROM read_csv('{data / 'quotas.csv'}', all_varchar = true)),
          (SELECT min(CAST("Date" AS TIMESTAMP))
             FROM read_csv('{data / 'partner_costs.csv'}', all_varchar = true)))
        """)  # fmt: skip
    assert first_rate <= earliest
    assert last_rate >= datetime(2026, 9, 25)


def test_links_point_at_rows_of_the_same_partner(demo: Demo) -> None:
    mdf = demo.root / "data" / "mdf_activities.csv"
    (linked, orphans) = _one(demo, f"""
        SELECT count(*), count(*) FILTER (WHERE m."Partner ID" IS DISTINCT FROM o.PartnerAccountId)
        FROM opp o LEFT JOIN read_csv('{mdf}', all_varchar = true) m
          ON m."Activity ID" = o.MDF_Activity__c
        WHERE o.MDF_Activity__c IS NOT NULL""")  # fmt: skip
    assert linked > 0 and orphans == 0
    (converted, orphans) = _one(demo, """
        SELECT count(*), count(*) FILTER (WHERE o.PartnerAccountId IS DISTINCT FROM l.partner_id)
        FROM leads l LEFT JOIN opp o ON o.Id = l.converted_opportunity_id
        WHERE l.converted_opportunity_id IS NOT NULL""")  # fmt: skip
    assert converted > 0 and orphans == 0
    schema = pq.read_schema(demo.manifest.files["leads"])
    assert str(schema.field("assigned_ts").type) == "timestamp[ms, tz=UTC]"


# ---------------------------------------------------------------- planted patterns


def test_planted_sets_are_disjoint_partners(demo: Demo) -> None:
    planted = demo.manifest.planted
    assert list(planted) == [
        "decliners",
        "sla_breakers",
        "compliance_violators",
        "risers",
        "collapse",
    ]
    assert len(planted["collapse"]) == 1
    assert all(len(ids) >= 2 for name, ids in planted.items() if name != "collapse")
    everyone = [pid for ids in planted.values() for pid in ids]
    assert len(everyone) == len(set(everyone))
    assert set(everyone) <= {p["Partner ID"] for p in _partner_rows(demo.root)}


def _won_by_quarter(demo: Demo, partner_id: str) -> dict[date, float]:
    rows = demo.con.execute(
        "SELECT close_q::DATE, sum(CAST(Amount AS DOUBLE)) FROM opp"
        " WHERE PartnerAccountId = ? AND IsWon = 'true' GROUP BY 1",
        [partner_id],
    ).fetchall()
    return dict(rows)


def test_collapse_loses_nearly_all_revenue_and_pipeline_in_the_last_quarter(demo: Demo) -> None:
    (partner_id,) = demo.manifest.planted["collapse"]
    won = _won_by_quarter(demo, partner_id)
    earlier = [v for q, v in won.items() if q < LAST_Q]
    assert len(earlier) == 11
    assert won.get(LAST_Q, 0.0) < 0.1 * sum(earlier) / len(earlier)
    created = dict(
        demo.con.execute(
            "SELECT created_q::DATE, count(*) FROM opp"
            " WHERE PartnerAccountId = ? AND created_q >= DATE '2023-10-01' GROUP BY 1",
            [partner_id],
        ).fetchall()
    )
    before = [v for q, v in created.items() if q < LAST_Q]
    assert created.get(LAST_Q, 0) < 0.1 * sum(before) / len(before)
    (open_pipeline,) = _one(
        demo,
        "SELECT coalesce(sum(CAST(Amount AS DOUBLE)), 0) FROM opp"
        " WHERE PartnerAccountId = ? AND IsClosed = 'false'",
        [partner_id],
    )
    assert open_pipeline < 0.1 * sum(earlier) / len(earlier)


def test_decliners_win_less_and_less(demo: Demo) -> None:
    for partner_id in demo.manifest.planted["decliners"]:
        won = _won_by_quarter(demo, partner_id)
        assert won.get(LAST_Q, 0.0) < won[date(2025, 7, 1)], partner_id
        early, late = _one(
            demo,
            "SELECT avg((IsWon = 'true')::INT) FILTER (WHERE close_q < DATE '2025-07-01'),"
            " avg((IsWon = 'true')::INT) FILTER (WHERE close_q >= DATE '2026-04-01')"
            " FROM opp WHERE PartnerAccountId = ? AND IsClosed = 'true'",
            [partner_id],
        )
        assert late < early, partner_id


def test_sla_breakers_answer_late_in_the_last_quarter(demo: Demo) -> None:
    query = """
        SELECT avg(coalesce(first_touch_ts - assigned_ts <= INTERVAL 2 HOUR, false)::INT)
        FROM leads WHERE assigned_ts >= TIMESTAMPTZ '2026-07-01 00:00:00+00' {extra}"""
    (portfolio,) = _one(demo, query.format(extra=""))
    assert portfolio > 0.8
    for partner_id in demo.manifest.planted["sla_breakers"]:
        (share,) = _one(demo, query.format(extra="AND partner_id = ?"), [partner_id])
        assert share < 0.5, partner_id


def test_compliance_violators_fail_heavy_checks(demo: Demo) -> None:
    rows = demo.con.execute("""
        SELECT "Partner ID",
               100 * sum("Weight" * ("Result" = 'Pass')::INT) / sum("Weight") AS score,
               count(*) FILTER (WHERE "Result" = 'Fail' AND "Weight" >= 4) AS heavy_failures
        FROM checks WHERE "Check Date" >= DATE '2025-10-01' GROUP BY 1""").fetchall()  # fmt: skip
    scores = {pid: (score, heavy) for pid, score, heavy in rows}
    violators = demo.manifest.planted["compliance_violators"]
    for partner_id in violators:
        score, heavy = scores[partner_id]
        assert heavy >= 3 and score < 50, partner_id
    others = sorted(score for pid, (score, _) in scores.items() if pid not in violators)
    assert others[len(others) // 2] > 85


def test_risers_are_newcomers_that_grow_fast(demo: Demo) -> None:
    joined = {p["Partner ID"]: p["Join Date"] for p in _partner_rows(demo.root)}
    for partner_id in demo.manifest.planted["risers"]:
        first_created, q1, q3 = _one(
            demo,
            "SELECT min(CAST(CreatedDate AS TIMESTAMP)),"
            " count(*) FILTER (WHERE created_q = DATE '2026-01-01'),"
            " count(*) FILTER (WHERE created_q = DATE '2026-07-01')"
            " FROM opp WHERE PartnerAccountId = ?",
            [partner_id],
        )
        joined_at = joined[partner_id]
        assert isinstance(joined_at, date)
        assert joined_at >= date(2025, 4, 1), partner_id
        assert first_created.date() >= joined_at
        assert q3 > 1.5 * q1, partner_id
