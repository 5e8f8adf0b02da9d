-- customers.csv: RFM inputs, one row per known customer: orders (frequency), spend (monetary),
-- first and last order, and the median days between consecutive order days (the typical gap;
-- NULL with orders on one day only); and what the predictive models are fitted on: the
-- distinct days with an order (purchase days) and the spend on all of them but the first.
-- Inputs: `lines`. Parameters: none.
-- Builder: `CustomerAggregates::from_buyers` (aggregates/count.rs); `rfm::profiles_from` turns
-- them into recency, quintile scores and segments, `predict::Summaries::from_aggregates` into
-- the BG/NBD and Gamma-Gamma summaries.
-- The median is written with ROW_NUMBER/COUNT rather than PERCENTILE_CONT, which BigQuery has
-- only as a window function: the one or two middle rows (2·rn in [n, n+2]), averaged.
WITH known AS (
    SELECT
        NULLIF(customer_id, '') AS customer_id,
        order_id,
        time,
        CAST(FLOOR(time / 86400.0) AS BIGINT) AS order_day,
        quantity * unit_price AS spend
    FROM lines
    WHERE NULLIF(customer_id, '') IS NOT NULL
),
totals AS (
    SELECT
        customer_id,
        COUNT(DISTINCT order_id) AS orders,
        SUM(spend) AS monetary,
        MIN(time) AS first_time,
        MAX(time) AS last_time
    FROM known
    GROUP BY customer_id
),
days AS (
    SELECT customer_id, order_day, SUM(spend) AS spend
    FROM known
    GROUP BY customer_id, order_day
),
numbered AS (
    SELECT
        customer_id,
        spend,
        order_day - LAG(order_day) OVER (PARTITION BY customer_id ORDER BY order_day) AS gap,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_day) AS day_number
    FROM days
),
purchases AS (
    SELECT
        customer_id,
        COUNT(*) AS purchase_days,
        SUM(CASE WHEN day_number > 1 THEN spend ELSE 0 END) AS repeat_spend
    FROM numbered
    GROUP BY customer_id
),
ranked AS (
    SELECT
        customer_id,
        gap,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY gap) AS rn,
        COUNT(*) OVER (PARTITION BY customer_id) AS n
    FROM numbered
    WHERE gap IS NOT NULL
),
medians AS (
    SELECT customer_id, AVG(gap) AS gap_days
    FROM ranked
    WHERE 2 * rn BETWEEN n AND n + 2
    GROUP BY customer_id
)
SELECT t.customer_id, t.orders, t.monetary, t.first_time, t.last_time, m.gap_days, p.purchase_days, p.repeat_spend
FROM totals t
JOIN purchases p ON p.customer_id = t.customer_id
LEFT JOIN medians m ON m.customer_id = t.customer_id
ORDER BY t.customer_id
