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
      "t1"."__month" AS "month",
      COALESCE("t1"."status" = 'won', FALSE) AS "__e0"
    FROM (
      SELECT
        "t0"."opportunity_id",
        "t0"."partner_id",
        "t0"."attribution",
        "t0"."account_id",
        "t0"."name",
        "t0"."product",
        "t0"."stage",
        "t0"."status",
        "t0"."amount",
        "t0"."discount_amount",
        "t0"."currency",
        "t0"."created_at",
        "t0"."closed_at",
        "t0"."mdf_activity_id",
        "t0"."updated_at",
        "t0"."fx_rate",
        "t0"."amount_local",
        "t0"."discount_amount_local",
        "t0"."_import_id",
        "t0"."_source_file",
        "t0"."_source_row",
        CAST(DATE_TRUNC('MONTH', TIMEZONE('America/New_York', CAST("t0"."closed_at" AS TIMESTAMPTZ))) AS DATE) AS "__month"
      FROM "opportunities" AS "t0"
    ) AS "t1"
  ) AS "t2"
  GROUP BY
    1,
    2
) AS "t3"
WHERE
  "t3"."month" IS NOT NULL;
