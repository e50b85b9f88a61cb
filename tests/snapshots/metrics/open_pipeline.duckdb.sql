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
        "t1"."month",
        SUM("t1"."__e0") AS "open_pipeline__in"
      FROM (
        SELECT
          "t0"."partner_id",
          CAST(DATE_TRUNC('MONTH', "t0"."created_at") AS DATE) AS "month",
          "t0"."amount" AS "__e0"
        FROM "opportunities" AS "t0"
        WHERE
          "t0"."created_at" IS NOT NULL
      ) AS "t1"
      GROUP BY
        1,
        2
    ) AS "t3"
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
        "t2"."month",
        SUM("t2"."__e0") AS "open_pipeline__out"
      FROM (
        SELECT
          "t0"."partner_id",
          CAST(DATE_TRUNC('MONTH', "t0"."closed_at") AS DATE) AS "month",
          "t0"."amount" AS "__e0"
        FROM "opportunities" AS "t0"
        WHERE
          "t0"."closed_at" IS NOT NULL
      ) AS "t2"
      GROUP BY
        1,
        2
    ) AS "t4"
  ) AS "t6"
) AS "t7"
GROUP BY
  1,
  2;
