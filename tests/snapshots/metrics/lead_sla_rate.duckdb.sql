SELECT
  *
FROM (
  SELECT
    "t1"."partner_id",
    "t1"."month",
    COUNT(*) FILTER(WHERE
      "t1"."__e0") AS "leads_within_sla",
    COUNT(*) FILTER(WHERE
      "t1"."__e1") AS "leads_sla_due"
  FROM (
    SELECT
      "t0"."partner_id",
      CAST(DATE_TRUNC('MONTH', "t0"."assigned_at") AS DATE) AS "month",
      COALESCE(
        (
          "t0"."first_touch_at" IS NOT NULL
        )
        AND (
          (
            (
              CAST(EPOCH(CAST("t0"."first_touch_at" AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t0"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
            ) / 3600.0
          ) <= 2.0
        ),
        FALSE
      ) AS "__e0",
      COALESCE(
        (
          "t0"."first_touch_at" IS NOT NULL
        )
        OR (
          (
            (
              CAST(EPOCH(CAST(MAKE_TIMESTAMP(2026, 7, 1, 9, 30, 0.0) AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t0"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
            ) / 3600.0
          ) >= 2.0
        ),
        FALSE
      ) AS "__e1"
    FROM "leads" AS "t0"
    WHERE
      "t0"."assigned_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2";
