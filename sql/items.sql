-- items.csv: per SKU, its distinct buyers (popular, popular per category) and their sum of
-- decayed recency (trending): each buyer counts once, weighted by their latest purchase of it.
-- A buyer is a known customer, or a guest's single order.
-- Inputs: `lines`, `params`. Parameters: trending_half_life_days ([recs], default 14; <= 0: no
-- decay). as_of = the data's last order.
-- Builder: `Aggregates::from_dataset` (aggregates/count.rs, `items` from recs::BuyerItems),
-- scored by recs/popularity.rs (`popular`, `trending`, `by_category`).
WITH as_of AS (
    SELECT MAX(time) AS t FROM lines
),
buyer_items AS (
    SELECT
        CASE WHEN NULLIF(customer_id, '') IS NULL THEN 'o:' || order_id ELSE 'c:' || customer_id END AS buyer,
        sku,
        MAX(time) AS last_time
    FROM lines
    GROUP BY 1, 2
)
SELECT
    b.sku,
    COUNT(*) AS buyers,
    SUM(CASE
        WHEN p.trending_half_life_days <= 0 THEN 1.0
        ELSE EXP(-LN(2.0) * (GREATEST(a.t - b.last_time, 0) / 86400.0) / p.trending_half_life_days)
    END) AS trend
FROM buyer_items b
CROSS JOIN as_of a
CROSS JOIN params p
GROUP BY b.sku
ORDER BY b.sku
