-- totals.csv: one row of dataset counts and the data's time span (the bundle's stats; `as_of`
-- of every decay is `last_time`).
-- Inputs: `lines` (the builder's cleaned lines). Parameters: none.
-- Builder: `totals` in model-builder/src/aggregates/count.rs; the bundle's stats.
SELECT
    COUNT(DISTINCT order_id) AS orders,
    COUNT(*) AS lines,
    COUNT(DISTINCT NULLIF(customer_id, '')) AS customers,
    COUNT(DISTINCT CASE WHEN NULLIF(customer_id, '') IS NULL THEN order_id END) AS guest_orders,
    COUNT(DISTINCT country) AS countries,
    MIN(time) AS first_time,
    MAX(time) AS last_time
FROM lines
