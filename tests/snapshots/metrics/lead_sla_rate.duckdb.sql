SELECT
  *
FROM (
  SELECT
    "t1"."partner_id",
    "t1"."__month" AS "month",
    COUNT(*) FILTER(WHERE
      COALESCE(
        (
          "t1"."first_touch_at" IS NOT NULL
        )
        AND (
          (
            (
              CAST(EPOCH(CAST("t1"."first_touch_at" AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t1"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
            ) / 3600.0
          ) <= 2.0
        ),
        FALSE
      )) AS "leads_within_sla",
    COUNT(*) FILTER(WHERE
      COALESCE(
        (
          "t1"."first_touch_at" IS NOT NULL
        )
        OR (
          (
            (
              CAST(EPOCH(CAST(MAKE_TIMESTAMP(2026, 7, 1, 9, 30, 0.0) AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t1"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
            ) / 3600.0
          ) >= 2.0
        ),
        FALSE
      )) AS "leads_sla_due"
  FROM (
    SELECT
      "t0"."lead_id",
      "t0"."partner_id",
      "t0"."assigned_at",
      "t0"."first_touch_at",
      "t0"."converted",
      "t0"."opportunity_id",
      "t0"."estimated_value",
      "t0"."currency",
      "t0"."country",
      "t0"."product",
      "t0"."source",
      "t0"."updated_at",
      "t0"."fx_rate",
      "t0"."estimated_value_local",
      "t0"."_import_id",
      "t0"."_source_file",
      "t0"."_source_row",
      CAST(DATE_TRUNC('MONTH', "t0"."assigned_at") AS DATE) AS "__month"
    FROM "leads" AS "t0"
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2"
WHERE
  "t2"."month" IS NOT NULL;
