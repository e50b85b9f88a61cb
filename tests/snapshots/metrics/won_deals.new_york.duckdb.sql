SELECT
  *
FROM (
  SELECT
    "t2"."partner_id",
    "t2"."month",
    COUNT(*) FILTER(WHERE
      "t2"."__e0") AS "won_deals"
  FROM (
    SELECT
      "t1"."partner_id",
      CAST(DATE_TRUNC('MONTH', TIMEZONE('America/New_York', CAST("t1"."closed_at" AS TIMESTAMPTZ))) AS DATE) AS "month",
      COALESCE("t1"."status" = 'won', FALSE) AS "__e0"
    FROM (
      SELECT
        *
      FROM "opportunities" AS "t0"
      WHERE
        "t0"."closed_at" IS NOT NULL
    ) AS "t1"
  ) AS "t2"
  GROUP BY
    1,
    2
) AS "t3";
