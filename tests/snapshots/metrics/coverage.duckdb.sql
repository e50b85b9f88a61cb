SELECT
  'partner' AS "level",
  "t12"."partner_id" AS "group_key",
  "t12"."grain",
  "t12"."period_start",
  CAST(COUNT(DISTINCT "t12"."__value") AS DOUBLE) AS "covered_target_accounts",
  COUNT("t12"."__value") AS "covered_target_accounts__n"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t10"."partner_id",
      "t10"."__value",
      "t3"."grain",
      "t3"."period_start"
    FROM (
      SELECT DISTINCT
        "t8"."partner_id",
        "t8"."account_id" AS "__value",
        CAST(DATE_TRUNC('MONTH', "t8"."created_at") AS DATE) AS "month"
      FROM (
        SELECT
          "t6"."opportunity_id",
          "t6"."partner_id",
          "t6"."attribution",
          "t6"."account_id",
          "t6"."name",
          "t6"."product",
          "t6"."stage",
          "t6"."status",
          "t6"."amount",
          "t6"."discount_amount",
          "t6"."currency",
          "t6"."created_at",
          "t6"."closed_at",
          "t6"."mdf_activity_id",
          "t6"."updated_at",
          "t6"."fx_rate",
          "t6"."amount_local",
          "t6"."discount_amount_local",
          "t6"."_import_id",
          "t6"."_source_file",
          "t6"."_source_row"
        FROM (
          SELECT
            *
          FROM "opportunities" AS "t1"
          WHERE
            "t1"."partner_id" IS NOT NULL
        ) AS "t6"
        SEMI JOIN (
          SELECT
            "t2"."account_id"
          FROM "accounts" AS "t2"
          WHERE
            COALESCE("t2"."is_target", FALSE)
        ) AS "t7"
          ON "t6"."account_id" = "t7"."account_id"
      ) AS "t8"
      WHERE
        TRUE AND "t8"."account_id" IS NOT NULL
    ) AS "t10"
    INNER JOIN "periods" AS "t3"
      ON "t10"."month" <= "t3"."last_month"
      AND "t10"."month" > (
        "t3"."last_month" - INTERVAL '12' MONTH
      )
  ) AS "t11"
  WHERE
    "t11"."partner_id" IS NOT NULL
) AS "t12"
GROUP BY
  1,
  2,
  3,
  4;
