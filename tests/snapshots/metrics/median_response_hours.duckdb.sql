SELECT
  'partner' AS "level",
  "t7"."partner_id" AS "group_key",
  "t7"."grain",
  "t7"."period_start",
  QUANTILE_CONT("t7"."__value", 0.5) AS "median_response_hours"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t5"."partner_id",
      "t5"."__value",
      "t3"."grain",
      "t3"."period_start"
    FROM (
      SELECT
        "t0"."partner_id",
        (
          CAST(EPOCH(CAST("t0"."first_touch_at" AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t0"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
        ) / 3600.0 AS "__value",
        CAST(DATE_TRUNC('MONTH', "t0"."assigned_at") AS DATE) AS "month"
      FROM "leads" AS "t0"
      WHERE
        COALESCE("t0"."first_touch_at" IS NOT NULL, FALSE)
        AND (
          (
            CAST(EPOCH(CAST("t0"."first_touch_at" AS TIMESTAMP)) AS DOUBLE) - CAST(EPOCH(CAST("t0"."assigned_at" AS TIMESTAMP)) AS DOUBLE)
          ) / 3600.0
        ) IS NOT NULL
    ) AS "t5"
    INNER JOIN (
      SELECT
        *
      FROM "month_map" AS "t1"
      WHERE
        "t1"."grain" = 'quarter'
    ) AS "t3"
      ON "t5"."month" = "t3"."month"
  ) AS "t6"
  WHERE
    "t6"."partner_id" IS NOT NULL
) AS "t7"
GROUP BY
  1,
  2,
  3,
  4;
