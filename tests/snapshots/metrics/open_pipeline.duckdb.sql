SELECT
  "t7"."partner_id",
  "t7"."month",
  SUM("t7"."open_pipeline__in") AS "open_pipeline__in",
  SUM("t7"."open_pipeline__out") AS "open_pipeline__out"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t3"."partner_id",
      "t3"."month",
      "t3"."open_pipeline__in",
      CAST(NULL AS DECIMAL(38, 2)) AS "open_pipeline__out"
    FROM (
      SELECT
        "t1"."partner_id",
        "t1"."__month" AS "month",
        SUM(CAST("t1"."amount" AS DECIMAL(38, 2))) FILTER(WHERE
          TRUE) AS "open_pipeline__in"
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
          CAST(DATE_TRUNC('MONTH', "t0"."created_at") AS DATE) AS "__month"
        FROM "opportunities" AS "t0"
      ) AS "t1"
      GROUP BY
        1,
        2
    ) AS "t3"
    WHERE
      "t3"."month" IS NOT NULL
  ) AS "t5"
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      "t4"."partner_id",
      "t4"."month",
      CAST(NULL AS DECIMAL(38, 2)) AS "open_pipeline__in",
      "t4"."open_pipeline__out"
    FROM (
      SELECT
        "t2"."partner_id",
        "t2"."__month" AS "month",
        SUM(CAST("t2"."amount" AS DECIMAL(38, 2))) FILTER(WHERE
          TRUE) AS "open_pipeline__out"
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
          CAST(DATE_TRUNC('MONTH', "t0"."closed_at") AS DATE) AS "__month"
        FROM "opportunities" AS "t0"
      ) AS "t2"
      GROUP BY
        1,
        2
    ) AS "t4"
    WHERE
      "t4"."month" IS NOT NULL
  ) AS "t6"
) AS "t7"
GROUP BY
  1,
  2;
