SELECT
  'partner' AS "level",
  "t6"."partner_id" AS "group_key",
  "t6"."grain",
  "t6"."period_start",
  QUANTILE_CONT("t6"."__value", 0.5) AS "median_response_hours",
  COUNT("t6"."__value") AS "median_response_hours__n"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t4"."partner_id",
      "t4"."__value",
      "t2"."grain",
      "t2"."period_start"
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
    ) AS "t4"
    INNER JOIN "month_map" AS "t2"
      ON "t4"."month" = "t2"."month"
  ) AS "t5"
  WHERE
    "t5"."partner_id" IS NOT NULL
) AS "t6"
GROUP BY
  1,
  2,
  3,
  4;
