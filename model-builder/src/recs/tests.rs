use vitrine_engine::bundle::RecTables;

use super::testdata::{TinyData, DAY_SECS};
use super::*;

fn items(list: &[vitrine_engine::bundle::Scored]) -> Vec<u32> {
    list.iter().map(|s| s.item).collect()
}

#[test]
fn bought_together_prefers_the_real_companion_over_a_bestseller_in_every_basket() {
    // 0 is in every basket; 1 and 2 always go together; 3 and 4 are filler.
    let mut data = TinyData::new(&["BESTSELLER", "TEAPOT", "TEA COSY", "CANDLE", "NAPKINS"]).customers(10).countries(&["UK"]);
    for c in 0..4 {
        data = data.order(Some(c), 0, c as i64, &[0, 1, 2]);
    }
    for c in 4..10 {
        data = data.order(Some(c), 0, c as i64, &[0, 3, 4, 3]);
    }
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    let teapot = tables.bought_together.list(1);
    assert_eq!(teapot[0].item, 2, "{teapot:?}");
    assert!(teapot.iter().all(|s| s.item != 1), "never the item itself");
    let companion = teapot[0].score;
    let bestseller = teapot.iter().find(|s| s.item == 0).expect("the bestseller still qualifies").score;
    assert!(companion > bestseller);
}

#[test]
fn bought_together_needs_min_support() {
    let data = TinyData::new(&["A", "B"]).customers(1).countries(&["UK"]).order(Some(0), 0, 0, &[0, 1]).order(Some(0), 0, 1, &[0, 1]);
    let cfg = RecsConfig { min_support: 3, ..Default::default() };
    assert!(build_tables(&data.ds, &cfg, &[]).bought_together.is_empty());
    let cfg = RecsConfig { min_support: 2, ..Default::default() };
    assert_eq!(items(&build_tables(&data.ds, &cfg, &[]).bought_together.list(0)), [1]);
}

#[test]
fn a_basket_dropped_for_its_size_does_not_hide_its_items_from_the_next() {
    // The first order is over max_basket_items and left out; the next two both hold A and B.
    let data = TinyData::new(&["A", "B", "C"]).customers(1).countries(&["UK"]).order(Some(0), 0, 0, &[0, 1, 2]).order(Some(0), 0, 1, &[0, 1]).order(
        Some(0),
        0,
        2,
        &[0, 1],
    );
    let cfg = RecsConfig { max_basket_items: 2, min_support: 2, ..Default::default() };
    assert_eq!(items(&build_tables(&data.ds, &cfg, &[]).bought_together.list(0)), [1]);
}

#[test]
fn similar_finds_title_neighbours() {
    let data = TinyData::new(&[
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "PINK CERAMIC MUG",
        "RED HANGING HEARTS T-LIGHT HOLDER",
        "WHITE METAL LANTERN",
        "BLUE CERAMIC MUG",
    ]);
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(tables.similar.list(0)[0].item, 2);
    assert_eq!(tables.similar.list(1)[0].item, 4);
    assert!(!items(&tables.similar.list(0)).contains(&1), "no shared word with a mug");
    let cos = tables.similar.list(0)[0].score;
    assert!(cos > 0.5 && cos <= 1.0 + 1e-6, "{cos}");
}

#[test]
fn similar_never_lists_the_same_title_twice() {
    let data = TinyData::new(&["RED HEART MUG", "RED HEART MUG ", "red  heart mug", "RED STAR MUG"]);
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(items(&tables.similar.list(0)), [3]);
    assert_eq!(items(&tables.similar.list(3)), [0]);
}

#[test]
fn similar_uses_categories_and_tags() {
    let mut data = TinyData::new(&["ALPHA", "BETA", "GAMMA"]);
    data.ds.categories = vec!["kitchen".into()];
    data.ds.products[0].category = Some(0);
    data.ds.products[2].category = Some(0);
    data.ds.products[1].tags = vec!["gift".into()];
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(items(&tables.similar.list(0)), [2]);
    assert!(tables.similar.list(1).is_empty());
}

#[test]
fn tokenize_folds_case_plurals_numbers_and_stop_words() {
    let words: Vec<String> = tokenize("SET OF 12 Hearts, glass  & T-LIGHT").collect();
    assert_eq!(words, ["set", "heart", "glass", "light"]);
}

#[test]
fn trending_prefers_recent_sales_popular_counts_all_time() {
    // Product 0: five buyers a year ago. Product 1: three buyers this week.
    let mut data = TinyData::new(&["OLD FAVOURITE", "NEW HIT"]).customers(8).countries(&["UK"]);
    for c in 0..5 {
        data = data.order(Some(c), 0, c as i64, &[0]);
    }
    for c in 5..8 {
        data = data.order(Some(c), 0, 360 + c as i64, &[1]);
    }
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(items(&tables.trending), [1, 0]);
    assert_eq!(items(&tables.popular), [0, 1]);
    assert_eq!(tables.popular[0].score, 5.0);
}

#[test]
fn popular_counts_distinct_buyers_not_units_or_orders() {
    let data = TinyData::new(&["A", "B"])
        .customers(3)
        .countries(&["UK"])
        .order(Some(0), 0, 0, &[0, 0, 0])
        .order(Some(0), 0, 1, &[0])
        .order(Some(0), 0, 2, &[0])
        .order(Some(1), 0, 3, &[1])
        .order(Some(2), 0, 4, &[1])
        .order(None, 0, 5, &[0]);
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(tables.popular.iter().map(|s| (s.item, s.score)).collect::<Vec<_>>(), [(0, 2.0), (1, 2.0)]);
}

#[test]
fn popular_by_country_separates_countries() {
    let mut data = TinyData::new(&["TEA", "WINE", "CHEESE"]).customers(6).countries(&["United Kingdom", "France", "Spain"]);
    for c in 0..3 {
        data = data.order(Some(c), 0, c as i64, &[0, 2]);
    }
    for c in 3..6 {
        data = data.order(Some(c), 1, c as i64, &[1]);
    }
    let tables = build_tables(&data.ds, &RecsConfig::default(), &[]);
    assert_eq!(items(RecTables::keyed(&tables.popular_by_country, "france")), [1]);
    assert_eq!(items(RecTables::keyed(&tables.popular_by_country, "United Kingdom")), [0, 2]);
    assert!(RecTables::keyed(&tables.popular_by_country, "Spain").is_empty());
    assert_eq!(tables.popular_by_country.len(), 2, "countries without sales are left out");
}

#[test]
fn popular_by_segment_aggregates_per_segment() {
    let data = TinyData::new(&["A", "B"])
        .customers(3)
        .countries(&["UK"])
        .order(Some(0), 0, 0, &[0])
        .order(Some(1), 0, 1, &[1])
        .order(Some(2), 0, 2, &[1])
        .order(None, 0, 3, &[0]);
    let tables = build_tables(&data.ds, &RecsConfig::default(), &["Champions", "Lost", "Champions"]);
    assert_eq!(items(RecTables::keyed(&tables.popular_by_segment, "Champions")), [0, 1]);
    assert_eq!(items(RecTables::keyed(&tables.popular_by_segment, "Lost")), [1]);
}

#[test]
fn reorder_days_is_the_median_gap_between_repeat_purchases() {
    // Customers 0..3 re-order product 0 every 10, 10 and 20 days; a same-day repeat is a split
    // order, not a re-order. Product 1 is re-ordered by one customer only.
    let data = TinyData::new(&["COFFEE", "MUG"])
        .customers(3)
        .countries(&["UK"])
        .order(Some(0), 0, 0, &[0, 1])
        .order(Some(1), 0, 0, &[0])
        .order(Some(2), 0, 0, &[0])
        .order(Some(2), 0, 0, &[0])
        .order(Some(0), 0, 10, &[0, 1])
        .order(Some(1), 0, 10, &[0])
        .order(Some(0), 0, 20, &[0])
        .order(Some(2), 0, 20, &[0]);
    let cfg = RecsConfig { min_reorder_customers: 3, ..Default::default() };
    assert_eq!(build_tables(&data.ds, &cfg, &[]).reorder_days, [(0, 10.0)]);
    let cfg = RecsConfig { min_reorder_customers: 1, ..Default::default() };
    assert_eq!(build_tables(&data.ds, &cfg, &[]).reorder_days, [(0, 10.0), (1, 10.0)]);
}

#[test]
fn empty_dataset_gives_empty_tables() {
    let tables = build_tables(&Default::default(), &RecsConfig::default(), &[]);
    assert!(tables.bought_together.is_empty() && tables.similar.is_empty() && tables.popular.is_empty());
}

#[test]
fn config_reads_from_toml_fields_with_defaults() {
    let cfg: RecsConfig = serde_json::from_str(r#"{"top_k": 5}"#).unwrap();
    assert_eq!((cfg.top_k, cfg.min_support), (5, 3));
    assert!(serde_json::from_str::<RecsConfig>(r#"{"topk": 5}"#).is_err(), "typos are refused");
}

#[test]
fn similar_stays_bounded_in_a_huge_category_and_still_finds_the_rare_word_twin() {
    // 20k products in one category, every title sharing "organic" and one of 50 product
    // types; walking the category's posting list whole would score 20k × 20k pairs.
    let n = 20_000;
    let titles: Vec<String> = (0..n).map(|i| format!("ORGANIC {} VARIANT{}", ["APPLE", "PEAR", "PLUM", "FIG", "KIWI"][i % 5], i / 2)).collect();
    let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
    let mut data = TinyData::new(&refs);
    data.ds.categories = vec!["Produce".into()];
    data.ds.products.iter_mut().for_each(|p| p.category = Some(0));
    let index = ContentIndex::from_dataset(&data.ds, &RecsConfig::default());
    let (similar, work) = index.similar_counted(&RecsConfig::default());
    let per_product = work / n as u64;
    assert!(per_product < 2_000, "{per_product} candidates per product: the category is walked whole");
    // "VARIANT7" is held by products 14 and 15 only: each is the other's best neighbour.
    assert_eq!(similar.list(14)[0].item, 15);
    assert_eq!(similar.list(15)[0].item, 14);
}

#[test]
fn similar_fills_lists_from_common_words_past_many_copies_of_one_title() {
    // 8,000 products under 40 titles (200 copies each) in one category: every term is common,
    // and a window of copies of the product's own title must not starve its list.
    let fruits = ["APPLE", "PEAR", "PLUM", "FIG", "KIWI"];
    let colours = ["RED", "GREEN", "GOLD", "BLUE", "PINK", "BLACK", "WHITE", "GREY"];
    let titles: Vec<String> = (0..8_000).map(|i| format!("ORGANIC {} {}", fruits[i % 5], colours[i / 5 % 8])).collect();
    let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
    let mut data = TinyData::new(&refs);
    data.ds.categories = vec!["Produce".into()];
    data.ds.products.iter_mut().for_each(|p| p.category = Some(0));
    let cfg = RecsConfig::default();
    let similar = ContentIndex::from_dataset(&data.ds, &cfg).similar(&cfg);
    let list = similar.list(0);
    assert_eq!(list.len(), cfg.top_k, "{list:?}");
    let titles_seen: std::collections::HashSet<&str> = list.iter().map(|s| refs[s.item as usize]).collect();
    assert_eq!(titles_seen.len(), list.len(), "one product per title");
    assert!(!titles_seen.contains(refs[0]), "never the product's own title");
    // 4 red fruits and 7 apples of other colours share a word; they come first.
    let share = |s: &vitrine_engine::bundle::Scored| refs[s.item as usize].contains("APPLE") || refs[s.item as usize].contains("RED");
    assert!(list[..11].iter().all(share), "{list:?}");
}

#[test]
fn popular_by_brand_ranks_each_brands_products_by_buyers() {
    // Acme: 0 (two buyers) and 2 (one); Zeta: 1 (one); 3 has no brand, 4 an Acme nobody bought.
    let mut data = TinyData::new(&["A", "B", "C", "D", "E"])
        .customers(3)
        .countries(&["UK"])
        .order(Some(0), 0, 0, &[0, 1])
        .order(Some(1), 0, 1, &[0, 2, 3])
        .order(Some(2), 0, 2, &[3]);
    for (p, brand) in data.ds.products.iter_mut().zip(["Acme", "Zeta", "Acme", "", "Acme"]) {
        p.brand = brand.into();
    }
    let a = crate::aggregates::Aggregates::from_dataset(&data.ds, &RecsConfig::default());
    let lists = popularity::by_brand(&a, &data.ds.products, &RecsConfig::default());
    assert_eq!(lists.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(), ["Acme", "Zeta"], "sorted, unbranded products in none");
    assert_eq!(items(RecTables::keyed(&lists, "Acme")), [0, 2]);
    assert_eq!(items(RecTables::keyed(&lists, "acme")), [0, 2], "looked up as popular_by_category is");
    assert_eq!(items(RecTables::keyed(&lists, "Zeta")), [1]);
    let short = popularity::by_brand(&a, &data.ds.products, &RecsConfig { popular_size: 1, ..Default::default() });
    assert_eq!(items(RecTables::keyed(&short, "Acme")), [0]);
}

#[test]
fn new_arrivals_are_the_newest_in_stock_products_decaying_with_age() {
    let data = TinyData::new(&["OLD", "NEW", "NEWER", "UNDATED", "SOLD OUT", "FUTURE", "SAME DAY AS NEWER"]);
    let mut products = data.ds.products.clone();
    products[4].in_stock = false;
    let day = |d: i64| Some(d * DAY_SECS);
    let as_of = 200 * DAY_SECS;
    // Added 150 days, 30 days and 1 day before the data's last day; one after it.
    let created_at = [day(50), day(170), day(199), None, day(199), day(230), day(199)];
    let cfg = RecsConfig { new_arrivals_days: 90.0, new_arrivals_half_life_days: 30.0, ..Default::default() };
    let list = new_arrivals(&products, &created_at, as_of, &cfg);
    assert_eq!(items(&list), [5, 2, 6, 1], "newest first, ties by product, nothing older than 90 days, undated or sold out");
    assert_eq!(list[0].score, 1.0, "a product dated after the data's last day is brand new");
    assert!((list[3].score - 0.5).abs() < 1e-6, "30 days old at a 30-day half-life: {list:?}");
    let everything = RecsConfig { new_arrivals_days: 0.0, new_arrivals_size: 2, ..cfg };
    assert_eq!(items(&new_arrivals(&products, &created_at, as_of, &everything)), [5, 2], "0 days: no window; the size cuts");
    assert!(new_arrivals(&products, &[], as_of, &cfg).is_empty(), "a catalog without dates has none");
}
