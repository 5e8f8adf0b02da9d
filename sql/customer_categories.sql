-- customer_categories.csv: spend per (customer, category), category by name from the cleaned
-- catalog; lines of products without a category are left out.
-- Inputs: `lines`, `products` (sku, category). Parameters: none.
-- Builder: `CustomerAggregates::from_buyers` (aggregates/count.rs); `rfm::profiles_from` keeps
-- each customer's top 3 by spend.
SELECT
    l.customer_id,
    p.category,
    SUM(l.quantity * l.unit_price) AS spend
FROM lines l
JOIN products p ON p.sku = l.sku
WHERE NULLIF(l.customer_id, '') IS NOT NULL
  AND NULLIF(p.category, '') IS NOT NULL
GROUP BY l.customer_id, p.category
ORDER BY l.customer_id, p.category
