-- customer_items.csv: each known customer's purchase history: per (customer, SKU), the orders
-- holding it and the latest time. Private (customer ids), like the profiles made from it.
-- Inputs: `lines`. Parameters: none.
-- Builder: `CustomerAggregates::from_buyers` (aggregates/count.rs); `rfm::profiles_from` keeps
-- the 30 strongest per customer for the profiles, recs/popularity.rs counts customers per
-- (segment, SKU) from it (`by_segment`).
SELECT
    customer_id,
    sku,
    COUNT(DISTINCT order_id) AS orders,
    MAX(time) AS last_time
FROM lines
WHERE NULLIF(customer_id, '') IS NOT NULL
GROUP BY customer_id, sku
ORDER BY customer_id, sku
