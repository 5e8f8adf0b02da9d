-- pairs.csv: bought together: per unordered pair of SKUs (sku_a < sku_b), the kept baskets
-- holding both (count) and their summed decay weight; only pairs in at least min_support
-- baskets. The one output not bounded by the lines: the support filter stays in the query, and
-- max_basket_items bounds the self-join's rows per basket.
-- Baskets, kept baskets and weights exactly as in basket_items.sql.
-- Inputs: `lines`, `params`. Parameters: co_purchase_scope, max_basket_items,
-- co_purchase_half_life_days, min_support ([recs]; defaults 'basket', 100, 90, 3).
-- Builder: `Baskets::pairs` (recs/baskets.rs), scored by `bought_together`.
WITH as_of AS (
    SELECT MAX(time) AS t FROM lines
),
basket_lines AS (
    SELECT
        CASE
            WHEN p.co_purchase_scope = 'customer' AND NULLIF(l.customer_id, '') IS NOT NULL THEN 'c:' || l.customer_id
            ELSE 'o:' || l.order_id
        END AS basket,
        l.sku,
        l.time
    FROM lines l
    CROSS JOIN params p
),
baskets AS (
    SELECT basket, COUNT(DISTINCT sku) AS size, MAX(time) AS latest
    FROM basket_lines
    GROUP BY basket
),
kept AS (
    SELECT
        b.basket,
        CASE
            WHEN p.co_purchase_half_life_days <= 0 THEN 1.0
            ELSE EXP(-LN(2.0) * (GREATEST(a.t - b.latest, 0) / 86400.0) / p.co_purchase_half_life_days)
        END AS w
    FROM baskets b
    CROSS JOIN as_of a
    CROSS JOIN params p
    WHERE b.size >= 2 AND (p.max_basket_items <= 0 OR b.size <= p.max_basket_items)
),
kept_skus AS (
    SELECT DISTINCT bl.basket, bl.sku, k.w
    FROM basket_lines bl
    JOIN kept k ON k.basket = bl.basket
)
SELECT x.sku AS sku_a, y.sku AS sku_b, COUNT(*) AS baskets, SUM(x.w) AS weight
FROM kept_skus x
JOIN kept_skus y ON y.basket = x.basket AND x.sku < y.sku
GROUP BY x.sku, y.sku
HAVING COUNT(*) >= (SELECT min_support FROM params)
ORDER BY sku_a, sku_b
