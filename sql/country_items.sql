-- country_items.csv: per (country, SKU), the distinct buyers who bought the SKU in an order
-- from that country (a customer who bought it from two countries counts in both).
-- Inputs: `lines`. Parameters: none.
-- Builder: `BuyerItems::country_buyers` (recs/buyers.rs), scored by recs/popularity.rs
-- (`by_country`).
SELECT
    country,
    sku,
    COUNT(DISTINCT CASE WHEN NULLIF(customer_id, '') IS NULL THEN 'o:' || order_id ELSE 'c:' || customer_id END) AS buyers
FROM lines
GROUP BY country, sku
ORDER BY country, sku
