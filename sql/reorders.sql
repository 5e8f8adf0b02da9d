-- reorders.csv: re-order intervals per SKU ("buy it again"): over the distinct days on which a
-- known customer bought the SKU, the gap to that customer's previous day with it; per SKU the
-- customers with at least one gap and the median gap. Same-day orders are one visit.
-- Inputs: `lines`. Parameters: none (min_reorder_customers is applied by the builder).
-- Builder: `BuyerItems::reorders` (recs/buyers.rs); `recs::tables` keeps the SKUs with
-- min_reorder_customers as `reorder_days`.
-- Median as in customers.sql (ROW_NUMBER/COUNT, portable where PERCENTILE_CONT is not).
WITH days AS (
    SELECT DISTINCT customer_id, sku, CAST(FLOOR(time / 86400.0) AS BIGINT) AS order_day
    FROM lines
    WHERE NULLIF(customer_id, '') IS NOT NULL
),
gaps AS (
    SELECT customer_id, sku, order_day - LAG(order_day) OVER (PARTITION BY customer_id, sku ORDER BY order_day) AS gap
    FROM days
),
ranked AS (
    SELECT
        customer_id,
        sku,
        gap,
        ROW_NUMBER() OVER (PARTITION BY sku ORDER BY gap) AS rn,
        COUNT(*) OVER (PARTITION BY sku) AS n
    FROM gaps
    WHERE gap IS NOT NULL
)
SELECT
    sku,
    COUNT(DISTINCT customer_id) AS customers,
    AVG(CASE WHEN 2 * rn BETWEEN n AND n + 2 THEN gap END) AS gap_days
FROM ranked
GROUP BY sku
ORDER BY sku
