-- basket_items.csv: per SKU, the kept baskets holding it (count) and their summed decay weight
-- (the mass that discounts a bestseller in bought-together scores).
-- A basket is one order (co_purchase_scope = 'basket') or all of a customer's orders
-- ('customer'; a guest order stays alone). It is kept with 2 to max_basket_items distinct SKUs
-- (0 = no limit); its weight decays with the age of its latest line.
-- Inputs: `lines`, `params`. Parameters: co_purchase_scope, max_basket_items,
-- co_purchase_half_life_days ([recs]; defaults 'basket', 100, 90; half-life <= 0: no decay).
-- Builder: `Baskets::items` (recs/baskets.rs), the mass in `bought_together`.
-- The CTEs up to `kept` are the same in pairs.sql: each file runs alone.
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
basket_skus AS (
    SELECT DISTINCT basket, sku FROM basket_lines
)
SELECT s.sku, COUNT(*) AS baskets, SUM(k.w) AS weight
FROM basket_skus s
JOIN kept k ON k.basket = s.basket
GROUP BY s.sku
ORDER BY s.sku
