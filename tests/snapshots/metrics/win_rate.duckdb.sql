SELECT
  *
FROM (
  SELECT
    "t1"."partner_id",
    "t1"."month",
    COUNT(*) FILTER(WHERE
      "t1"."__e0") AS "won_deals",
    COUNT(*) FILTER(WHERE
      "t1"."__e1") AS "closed_deals"
  FROM (
    SELECT
      "t0"."partner_id",
      CAST(DATE_TRUNC('MONTH', "t0"."closed_at") AS DATE) AS "month",
      COALESCE("t0"."status" = 'won', FALSE) AS "__e0",
      COALESCE("t0"."status" IN ('won', 'lost'), FALSE) AS "__e1"
    FROM "opportunities" AS "t0"
    WHERE
      "t0"."closed_at" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2";
