SELECT
  'partner' AS "level",
  "t13"."partner_id" AS "group_key",
  "t13"."grain",
  "t13"."period_start",
  CAST(COUNT(DISTINCT "t13"."__value") AS DOUBLE) AS "covered_target_accounts"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t11"."partner_id",
      "t11"."__value",
      "t6"."grain",
      "t6"."period_start"
    FROM (
      SELECT DISTINCT
        "t9"."partner_id",
        "t9"."account_id" AS "__value",
        CAST(DATE_TRUNC('MONTH', "t9"."created_at") AS DATE) AS "month"
      FROM (
        SELECT
          "t7"."opportunity_id",
          "t7"."partner_id",
          "t7"."attribution",
          "t7"."account_id",
          "t7"."name",
          "t7"."product",
          "t7"."stage",
          "t7"."status",
          "t7"."amount",
          "t7"."discount_amount",
          "t7"."currency",
          "t7"."created_at",
          "t7"."closed_at",
          "t7"."mdf_activity_id",
          "t7"."updated_at",
          "t7"."fx_rate",
          "t7"."amount_local",
          "t7"."discount_amount_local",
          "t7"."_import_id",
          "t7"."_source_file",
          "t7"."_source_row"
        FROM (
          SELECT
            *
          FROM "opportunities" AS "t1"
          WHERE
            "t1"."partner_id" IS NOT NULL
        ) AS "t7"
        SEMI JOIN (
          SELECT
            "t2"."account_id"
          FROM "accounts" AS "t2"
          WHERE
            COALESCE("t2"."is_target", FALSE)
        ) AS "t8"
          ON "t7"."account_id" = "t8"."account_id"
      ) AS "t9"
      WHERE
        TRUE AND "t9"."account_id" IS NOT NULL
    ) AS "t11"
    INNER JOIN (
      SELECT
        *
      FROM "periods" AS "t0"
      WHERE
        "t0"."grain" = 'quarter'
    ) AS "t6"
      ON "t11"."month" <= "t6"."last_month"
      AND "t11"."month" > (
        "t6"."last_month" - INTERVAL '12' MONTH
      )
  ) AS "t12"
  WHERE
    "t12"."partner_id" IS NOT NULL
) AS "t13"
GROUP BY
  1,
  2,
  3,
  4;
