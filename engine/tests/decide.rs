//! Decisions on a small hand-made store: banners per segment, carousels that respect stock and
//! cart, exit-intent offers per scenario, experiments, page patterns, in-session interests.

use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Keyed, Neighbors, Product, RecTables, Scored};
use vitrine_engine::context::{CartLine, Signal, Visitor};
use vitrine_engine::rules::{Arm, Experiment, Measurement, Offer, PageRule, Placement, Rules, SegmentRule, Source, Store, Variant};
use vitrine_engine::Value;
use vitrine_engine::{DecideError, Engine, Status};

const NOW: i64 = 1_700_000_000;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn product(sku: &str, title: &str, price: f32, category: u16, in_stock: bool) -> Product {
    Product {
        sku: sku.into(),
        title: title.into(),
        url: format!("/products/{sku}"),
        image: format!("/img/{sku}.jpg"),
        price,
        category: Some(category),
        in_stock,
        ..Default::default()
    }
}

fn placement(id: &str, when: &str, sources: &[(&str, f32)]) -> Placement {
    Placement {
        id: id.into(),
        when: json(when),
        title: "Picked for you".into(),
        sources: sources.iter().map(|(r, w)| Source { recommender: (*r).into(), weight: *w }).collect(),
        max_items: 4,
        max_price: None,
        variants: vec![],
        template: String::new(),
        item_template: String::new(),
        exclude_owned: false,
    }
}

fn offer(id: &str, when: &str, kind: &str, headline: &str) -> Offer {
    Offer {
        id: id.into(),
        scenario: id.into(),
        when: json(when),
        kind: kind.into(),
        value: 10.0,
        code: if id == "welcome" { "WELCOME10".into() } else { String::new() },
        headline: headline.into(),
        body: String::new(),
        cta_text: String::new(),
        cta_url: "/cart".into(),
        capture: Default::default(),
    }
}

/// Products sorted by SKU (the bundle invariant). Categories: 0 candles, 1 bags, 2 kitchen.
fn store() -> Engine {
    let products = vec![
        product("A1", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55, 0, true), // 0
        product("A2", "RED HANGING HEART T-LIGHT HOLDER", 2.95, 0, true),   // 1
        product("A3", "GLASS STAR LANTERN", 12.0, 0, true),                 // 2
        product("A4", "ZINC T-LIGHT HOLDER", 4.0, 0, false),                // 3 out of stock
        product("B1", "JUMBO BAG RED RETROSPOT", 1.95, 1, true),            // 4
        product("B2", "JUMBO BAG PINK POLKADOT", 1.95, 1, true),            // 5
        product("B3", "LUNCH BAG CARS BLUE", 1.65, 1, true),                // 6
        product("K1", "REGENCY CAKESTAND 3 TIER", 12.75, 2, true),          // 7
        product("K2", "SET OF 3 CAKE TINS PANTRY", 4.95, 2, true),          // 8
        product("K3", "ROSES REGENCY TEACUP AND SAUCER", 2.95, 2, true),    // 9
    ];
    let s = |item, score| Scored { item, score };
    let mut bt = vec![Vec::new(); products.len()];
    bt[0] = vec![s(1, 5.0), s(3, 4.0), s(2, 3.0), s(7, 1.0)];
    bt[7] = vec![s(9, 6.0), s(8, 5.0), s(0, 1.0)];
    bt[4] = vec![s(5, 4.0), s(6, 3.0)];
    let mut sim = vec![Vec::new(); products.len()];
    sim[4] = vec![s(5, 0.9), s(6, 0.7)];
    sim[5] = vec![s(4, 0.9), s(6, 0.6)];
    let popular = vec![s(7, 100.0), s(0, 90.0), s(4, 80.0), s(8, 50.0), s(9, 40.0), s(2, 30.0), s(6, 20.0)];
    let by_cat = |key: &str, items: Vec<Scored>| Keyed { key: key.into(), items };
    let recs = RecTables {
        bought_together: Neighbors::from_lists(bt),
        similar: Neighbors::from_lists(sim),
        trending: vec![s(2, 9.0), s(9, 8.0), s(7, 1.0)],
        popular: popular.clone(),
        popular_by_country: vec![by_cat("France", vec![s(8, 10.0), s(9, 9.0)])],
        popular_by_category: vec![
            by_cat("Candles", vec![s(0, 90.0), s(2, 30.0), s(1, 20.0)]),
            by_cat("Bags", vec![s(4, 80.0), s(6, 20.0), s(5, 10.0)]),
            by_cat("Kitchen", vec![s(7, 100.0), s(8, 50.0), s(9, 40.0)]),
        ],
        popular_by_segment: vec![by_cat("Champions", vec![s(7, 10.0), s(9, 8.0)])],
        reorder_days: vec![(4, 30.0)],
        ..RecTables::default()
    };
    let hero = Placement {
        variants: vec![
            Variant { name: "champion".into(), when: json(r#"{"segment": "Champions"}"#), html: "<h1>Thank you, {{traits.first_name|friend}}</h1>".into() },
            Variant { name: "at-risk".into(), when: json(r#"{"segment": {"$in": ["At risk", "Can't lose them"]}}"#), html: "<h1>We miss you</h1>".into() },
            Variant { name: "france".into(), when: json(r#"{"country": "France"}"#), html: "<h1>Bienvenue</h1>".into() },
            Variant { name: "welcome".into(), when: json("{}"), html: "<h1>Welcome to {{store.name}}</h1>".into() },
        ],
        ..placement("hero", "{}", &[])
    };
    let rules = Rules {
        pages: vec![
            PageRule { pattern: "/".into(), page: "home".into() },
            PageRule { pattern: "/products/:sku".into(), page: "product".into() },
            PageRule { pattern: "/c/:category".into(), page: "category".into() },
            PageRule { pattern: "/cart".into(), page: "cart".into() },
        ],
        segments: vec![SegmentRule { name: "big-cart".into(), when: json(r#"{"cart.value": {"$gte": 100}}"#) }],
        placements: vec![
            hero,
            placement("pdp-pair-with", r#"{"page.type": "product"}"#, &[("bought_together", 1.0)]),
            placement("home-for-you", "{}", &[("affinity", 1.0), ("trending", 0.3)]),
            Placement { max_price: Some(5.0), ..placement("cart-dont-forget", r#"{"cart.count": {"$gt": 0}}"#, &[("cart_addons", 1.0)]) },
            placement("exp-slot", "{}", &[("popular", 1.0)]),
        ],
        offers: vec![
            offer("early_access", r#"{"segment": {"$in": ["Champions", "Loyal"]}}"#, "early_access", "Early access for you"),
            offer("priority_support", r#"{"segments": "big-cart"}"#, "priority_support", "Talk to us"),
            offer(
                "free_shipping",
                r#"{"customer": true, "cart.free_shipping_missing": {"$gt": 0}}"#,
                "free_shipping",
                "Only {{cart.free_shipping_missing_text}} to free shipping",
            ),
            offer("welcome", r#"{"known": false}"#, "percent_off", "10% off your first order"),
        ],
        experiments: vec![Experiment {
            key: "exp".into(),
            placement: "exp-slot".into(),
            weights: vec![0.5, 0.5],
            arms: vec![
                Arm { name: "holdout".into(), holdout: true, ..Arm::default() },
                Arm { name: "trending".into(), sources: vec![Source { recommender: "trending".into(), weight: 1.0 }], ..Arm::default() },
            ],
            ..Experiment::default()
        }],
        // These tests are about what each visitor is shown; the global holdout has its own
        // tests below, on this store with a holdout added.
        measurement: Measurement::without_holdout(),
        ..Default::default()
    };
    let body = BundleBody {
        store: Store {
            name: "Demo Gifts".into(),
            currency: "GBP".into(),
            currency_symbol: "£".into(),
            base_url: String::new(),
            free_shipping_threshold: Some(40.0),
        },
        catalog: Catalog::new(products, vec!["Candles".into(), "Bags".into(), "Kitchen".into()]),
        stats: Default::default(),
        recs,
        rules,
    };
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [1; 16], created_at: NOW };
    Engine::load(&bundle::encode(&header, &body)).expect("test bundle loads")
}

fn visitor(e: &Engine, id: &str, path: &str, traits: &str) -> Visitor {
    let mut v = Visitor { visitor_id: id.into(), traits: json(traits), ..Default::default() };
    v.request.page = e.page(path);
    v
}

fn skus(d: &vitrine_engine::Decision) -> Vec<&str> {
    d.items.iter().map(|i| i.sku.as_str()).collect()
}

#[test]
fn hero_banner_follows_segment_and_country() {
    let e = store();
    let champ = visitor(&e, "v1", "/", r#"{"segment": "Champions", "first_name": "Jane", "frequency": 12}"#);
    let d = e.decide(&champ, "hero", NOW).unwrap();
    assert_eq!((d.status, d.variant.as_deref()), (Status::Filled, Some("champion")));
    assert_eq!(d.html, "<h1>Thank you, Jane</h1>");
    assert_eq!(d.explain.rule, "placements.hero.variants.champion");

    let at_risk = visitor(&e, "v2", "/", r#"{"segment": "At risk", "frequency": 3}"#);
    assert_eq!(e.decide(&at_risk, "hero", NOW).unwrap().html, "<h1>We miss you</h1>");

    let mut french = visitor(&e, "v3", "/", "null");
    french.request.country = Some("France".into());
    assert_eq!(e.decide(&french, "hero", NOW).unwrap().variant.as_deref(), Some("france"));

    let new = visitor(&e, "v4", "/", "null");
    assert_eq!(e.decide(&new, "hero", NOW).unwrap().html, "<h1>Welcome to Demo Gifts</h1>");
}

#[test]
fn pair_with_uses_bought_together_and_never_shows_out_of_stock_in_cart_or_the_page_product() {
    let e = store();
    let mut v = visitor(&e, "v", "/products/A1", "null");
    assert_eq!(v.request.page.kind, "product");
    v.cart.push(CartLine { product: 1, quantity: 1 }); // A2 already in the cart
    let d = e.decide(&v, "pdp-pair-with", NOW).unwrap();
    assert_eq!(d.status, Status::Filled);
    // A2 (in cart) and A4 (out of stock) are skipped; A1 is the page itself.
    assert_eq!(skus(&d), ["A3", "K1"]);
    assert!(d.items.iter().all(|i| i.source == "bought_together"));
    assert!(d.html.contains(r#"<a href="/products/A3">"#) && d.html.contains("£12.00"), "{}", d.html);

    let home = visitor(&e, "v", "/", "null");
    assert_eq!(e.decide(&home, "pdp-pair-with", NOW).unwrap().status, Status::NotTargeted);
}

#[test]
fn cart_addons_stay_under_the_price_cap() {
    let e = store();
    let mut v = visitor(&e, "v", "/cart", "null");
    v.cart.push(CartLine { product: 7, quantity: 1 }); // the cake stand
    let d = e.decide(&v, "cart-dont-forget", NOW).unwrap();
    assert_eq!(d.status, Status::Filled);
    assert_eq!(&skus(&d)[..2], ["K3", "K2"], "bought-together first");
    assert!(d.items.iter().all(|i| i.price <= 5.0 && i.sku != "K1"));
}

#[test]
fn session_interests_steer_just_for_you() {
    let e = store();
    let mut v = visitor(&e, "v", "/", "null");
    let before = e.decide(&v, "home-for-you", NOW).unwrap();
    assert_eq!(before.items[0].sku, "A3", "a new visitor sees what is trending");
    for (i, sku) in ["B1", "B2", "B3"].iter().enumerate() {
        let p = e.body().catalog.index_of(sku).unwrap();
        v.interests.record(&e.body().catalog, Signal::ProductView, Some(p), None, NOW + i as i64 * 30);
    }
    let after = e.decide(&v, "home-for-you", NOW + 120).unwrap();
    let bags = after.items.iter().take(3).filter(|i| i.sku.starts_with('B')).count();
    assert_eq!(bags, 3, "after viewing three bags, bags lead: {:?}", skus(&after));
}

#[test]
fn exit_offer_matches_each_scenario() {
    let e = store();
    let new = visitor(&e, "n", "/", "null");
    let o = e.exit_offer(&new, NOW).unwrap();
    assert_eq!((o.id.as_str(), o.code.as_str()), ("welcome", "WELCOME10"));
    assert!(o.html.contains("WELCOME10"));

    let mut returning = visitor(&e, "r", "/cart", r#"{"segment": "Need attention", "frequency": 2}"#);
    returning.cart.push(CartLine { product: 7, quantity: 2 }); // £25.50 of £40
    let o = e.exit_offer(&returning, NOW).unwrap();
    assert_eq!(o.id, "free_shipping");
    assert_eq!(o.headline, "Only £14.50 to free shipping");

    let mut big = visitor(&e, "b", "/cart", r#"{"segment": "Promising", "frequency": 1}"#);
    big.cart.push(CartLine { product: 7, quantity: 10 });
    assert_eq!(e.exit_offer(&big, NOW).unwrap().id, "priority_support");

    let loyal = visitor(&e, "l", "/", r#"{"segment": "Loyal", "frequency": 9}"#);
    assert_eq!(e.exit_offer(&loyal, NOW).unwrap().id, "early_access");

    let mut bought = visitor(&e, "p", "/", "null");
    bought.session.purchased = true;
    assert!(e.exit_offer(&bought, NOW).is_none(), "never right after a purchase");
}

#[test]
fn experiments_split_visitors_deterministically() {
    let e = store();
    let mut holdout = 0;
    for i in 0..1000 {
        let v = visitor(&e, &format!("visitor-{i}"), "/", "null");
        let d = e.decide(&v, "exp-slot", NOW).unwrap();
        assert_eq!(d, e.decide(&v, "exp-slot", NOW).unwrap(), "same visitor, same decision");
        match d.status {
            Status::Holdout => holdout += 1,
            Status::Filled => assert_eq!(d.explain.experiment.as_ref().unwrap().arm, "trending"),
            s => panic!("unexpected {s:?}"),
        }
    }
    assert!((400..600).contains(&holdout), "about half held out, got {holdout}");
}

#[test]
fn unknown_placement_and_unknown_pages_are_handled() {
    let e = store();
    let v = visitor(&e, "v", "/nowhere/at/all", "null");
    assert_eq!(v.request.page.kind, "other");
    assert_eq!(e.decide(&v, "nope", NOW), Err(DecideError::UnknownPlacement("nope".into())));
    assert_eq!(e.page("/products/NOPE").kind, "other", "an unknown SKU is not a product page");
    let c = e.page("/c/bags?sort=price");
    assert_eq!((c.kind.as_str(), c.category), ("category", Some(1)));
}

#[test]
fn a_rule_that_does_not_compile_is_refused_at_load_naming_it() {
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [0; 16], created_at: 0 };
    let mut body =
        BundleBody { store: Store::default(), catalog: Catalog::default(), stats: Default::default(), recs: Default::default(), rules: Rules::default() };
    body.rules.placements.push(placement("x", r#"{"age": {"$gtx": 3}}"#, &[]));
    let err = Engine::load(&bundle::encode(&header, &body)).err().expect("refused");
    assert!(err.to_string().contains("placements[0].when"), "{err}");
}

#[test]
fn a_known_customers_history_feeds_buy_again_and_ages_on_the_data_clock() {
    let e = store();
    // The data ends a year before the bundle is built, as with historical demo data.
    let data_end = NOW - 365 * 86_400;
    let mut body = e.body().clone();
    body.stats.data_end = data_end;
    body.rules.placements.push(Placement { exclude_owned: false, ..placement("again", "{}", &[("buy_again", 1.0)]) });
    body.rules.placements.push(Placement { exclude_owned: true, ..placement("discover", "{}", &[("bought_together", 1.0)]) });
    let e = Engine::load(&bundle::encode(e.header(), &body)).unwrap();
    assert_eq!(e.data_time(NOW + 3600), data_end + 3600, "an hour after the build is an hour after the data");

    // K1 twice, 200 days before the data's end; B1 (re-orderable) once, 10 days before; junk.
    let traits = format!(
        r#"{{"segment": "Loyal", "items": [["K1", {}, 2], ["B1", {}, 1], ["NOPE", 0, 1], 42, ["A1"]]}}"#,
        data_end - 200 * 86_400,
        data_end - 10 * 86_400
    );
    let v = visitor(&e, "k", "/", &traits);
    let d = e.decide(&v, "again", NOW).unwrap();
    assert_eq!(skus(&d), ["B1", "K1"], "recent and re-orderable first");
    assert!(d.items.iter().all(|i| i.source == "buy_again"));

    // Discovery: companions of what they own (K1 -> K3, K2, A1; B1 -> B2, B3), never what they own.
    let d = e.decide(&v, "discover", NOW).unwrap();
    assert!(!skus(&d).contains(&"K1") && !skus(&d).contains(&"B1"), "{:?}", skus(&d));
    assert_eq!(skus(&d)[0], "B2", "the recent purchase's companions lead: {:?}", skus(&d));
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    f.sort();
    f
}

#[test]
fn decisions_and_offers_serialize_to_the_one_json_shape() {
    use vitrine_engine::{DecidedItem, Decision, ExperimentArm, Explain, OfferDecision, SourceUse};
    let e = store();
    // An experiment arm with sources: every nested object is present.
    let d = (0..40).map(|i| e.decide(&visitor(&e, &format!("v{i}"), "/", "null"), "exp-slot", NOW).unwrap()).find(|d| d.status == Status::Filled).unwrap();
    let j = serde_json::to_value(&d).unwrap();
    assert_eq!(keys(&j), sorted(&Decision::FIELDS));
    assert_eq!(keys(&j["items"][0]), sorted(&DecidedItem::FIELDS));
    assert_eq!(keys(&j["explain"]), sorted(&[Explain::FIELDS.as_slice(), &Explain::SERVER_FIELDS].concat()), "natively, with the edge's own");
    assert_eq!(keys(&j["explain"]["experiment"]), sorted(&ExperimentArm::FIELDS));
    assert_eq!(keys(&j["explain"]["sources"][0]), sorted(&SourceUse::FIELDS));
    for s in [Status::Filled, Status::NotTargeted, Status::Holdout, Status::Empty] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    let o = e.exit_offer(&visitor(&e, "v1", "/", "null"), NOW).unwrap();
    let j = serde_json::to_value(&o).unwrap();
    assert_eq!(keys(&j), sorted(&OfferDecision::FIELDS));
    assert_eq!(j["ctaUrl"], "/cart", "camelCase, as the JS API and vitrine.d.ts");
    for (name, value) in o.text_fields() {
        assert_eq!(j[name], value, "{name}");
    }
}

#[test]
fn a_slot_is_filled_only_with_html() {
    let e = store();
    let mut d = e.decide(&visitor(&e, "v1", "/", "null"), "hero", NOW).unwrap();
    assert_eq!(d.slot_html(), Some("<h1>Welcome to Demo Gifts</h1>"));
    d.html.clear(); // a variant whose template renders nothing
    assert_eq!((d.status, d.slot_html()), (Status::Filled, None), "the page keeps its own content");
    let cart = e.decide(&visitor(&e, "v1", "/", "null"), "cart-dont-forget", NOW).unwrap();
    assert_eq!((cart.status, cart.slot_html()), (Status::NotTargeted, None));
}

/// `e`'s bundle with its rules changed, loaded again (so `Rules::check` runs on the change).
fn with(e: &Engine, change: impl FnOnce(&mut Rules)) -> Engine {
    let mut body = e.body().clone();
    change(&mut body.rules);
    Engine::load(&bundle::encode(e.header(), &body)).expect("the changed rules load")
}

// GrowthBook's bucketing of fixed ids, computed with GrowthBook's own JS functions
// (`hashFnv32a`, `hash` v2, `getBucketRanges`, `chooseVariation` of its SDK's util.ts) under
// Node, not with this crate's code.
/// The first ids of `visitor-0`, `visitor-1`, … in the holdout: `hash("vitrine-holdout", id, 2)`
/// in the first range of weights [0.05, 0.95].
const HELD_OUT: [&str; 5] = ["visitor-24", "visitor-51", "visitor-62", "visitor-73", "visitor-77"];
/// How many of `visitor-0` … `visitor-9999` are held out (5% would be 500).
const HELD_OUT_OF_10_000: usize = 533;

#[test]
fn the_global_holdout_gets_the_stores_own_pages_and_no_offer() {
    use vitrine_engine::measure::{self, EXPERIMENT_VIEWED, HOLDOUT_ARM, HOLDOUT_EXPERIMENT, PERSONALIZED_ARM};
    let e = with(&store(), |r| r.measurement = Measurement::default());
    let on_cart = |id: &str| {
        let mut v = visitor(&e, id, "/cart", r#"{"segment": "Champions", "first_name": "Jane"}"#);
        v.cart.push(CartLine { product: 7, quantity: 1 });
        v
    };
    let held = on_cart(HELD_OUT[0]);
    assert_eq!(e.holdout_arm(&held), Some(HOLDOUT_ARM));
    let decisions: Vec<_> = e.body().rules.placements.iter().map(|p| e.decide(&held, &p.id, NOW).unwrap()).collect();
    for d in &decisions {
        if d.placement == "pdp-pair-with" {
            // Not a product page: personalized or not, nothing was due here.
            assert_eq!(d.status, Status::NotTargeted);
            continue;
        }
        assert_eq!((d.status, d.slot_html(), d.explain.rule.as_str()), (Status::Holdout, None, "measurement.holdout"), "{}", d.placement);
        let arm = d.explain.experiment.as_ref().expect("the holdout is named");
        assert_eq!((arm.key.as_str(), arm.arm.as_str()), (HOLDOUT_EXPERIMENT, HOLDOUT_ARM));
    }
    assert!(e.exit_offer(&held, NOW).is_none(), "no exit offer in the holdout");
    let exposures = measure::page_exposures(&decisions, e.holdout_arm(&held));
    assert!(exposures.iter().all(|r| r.event == EXPERIMENT_VIEWED && r.experiment == HOLDOUT_EXPERIMENT && r.arm == HOLDOUT_ARM), "{exposures:?}");
    assert!(exposures.iter().all(|r| r.items.is_empty() && r.variant.is_empty()), "nothing shown");

    let personalized = on_cart("visitor-0");
    assert_eq!(e.holdout_arm(&personalized), Some(PERSONALIZED_ARM));
    let hero = e.decide(&personalized, "hero", NOW).unwrap();
    assert_eq!((hero.status, hero.variant.as_deref(), hero.explain.experiment.as_ref()), (Status::Filled, Some("champion"), None));
    assert_eq!(e.exit_offer(&personalized, NOW).unwrap().id, "early_access");

    // `holdout = 0`: nobody held out, and no holdout arm to measure.
    let off = with(&e, |r| r.measurement.holdout = 0.0);
    assert_eq!(off.holdout_arm(&held), None);
    assert_eq!(off.decide(&held, "hero", NOW).unwrap().status, Status::Filled);
    assert!(off.exit_offer(&held, NOW).is_some());
    // Without a visitor id there is nothing to bucket: personalized, and not measured.
    let anonymous = on_cart("");
    assert_eq!((e.holdout_arm(&anonymous), e.decide(&anonymous, "hero", NOW).unwrap().status), (None, Status::Filled));
}

#[test]
fn about_five_percent_of_visitors_are_held_out_as_growthbook_buckets_them() {
    use vitrine_engine::measure::HOLDOUT_ARM;
    assert_eq!(Measurement::default().holdout, 0.05, "a store that says nothing holds out 5%");
    let e = with(&store(), |r| r.measurement = Measurement::default());
    let held = |e: &Engine| -> Vec<String> {
        (0..10_000)
            .map(|i| format!("visitor-{i}"))
            .filter(|id| e.holdout_arm(&Visitor { visitor_id: id.clone(), ..Default::default() }) == Some(HOLDOUT_ARM))
            .collect()
    };
    let ids = held(&e);
    assert_eq!((&ids[..5], ids.len()), (&HELD_OUT.map(String::from)[..], HELD_OUT_OF_10_000));
    // Another seed draws another holdout of about the same size (GrowthBook: visitor-1, -3, -16).
    let reseeded = held(&with(&e, |r| r.measurement.seed = "other".into()));
    assert_eq!(reseeded[..3], ["visitor-1", "visitor-3", "visitor-16"]);
    assert!((450..550).contains(&reseeded.len()), "{}", reseeded.len());
}

#[test]
fn a_content_experiment_shows_its_arms_variant_to_everyone_targeted() {
    let e = with(&store(), |r| {
        r.experiments.push(Experiment {
            key: "hero-test".into(),
            placement: "hero".into(),
            coverage: 0.9,
            weights: vec![0.2, 0.3, 0.5],
            arms: vec![
                Arm { name: "control".into(), ..Arm::default() },
                Arm { name: "we-miss-you".into(), variant: "at-risk".into(), ..Arm::default() },
                Arm { name: "welcome".into(), variant: "welcome".into(), ..Arm::default() },
            ],
            ..Experiment::default()
        })
    });
    // GrowthBook (Node) for key "hero-test", weights [0.2, 0.3, 0.5], coverage 0.9: visitor-0
    // arm 0, visitor-1 arm 1, visitor-2 outside the coverage, visitor-3 arm 2.
    let champion = |id: &str| visitor(&e, id, "/", r#"{"segment": "Champions", "first_name": "Jane"}"#);
    let got: Vec<(Option<String>, Option<String>, String)> = ["visitor-0", "visitor-1", "visitor-2", "visitor-3"]
        .iter()
        .map(|id| {
            let d = e.decide(&champion(id), "hero", NOW).unwrap();
            assert_eq!(d, e.decide(&champion(id), "hero", NOW + 86_400).unwrap(), "sticky: the same arm every visit");
            (d.explain.experiment.map(|a| a.arm), d.variant, d.html)
        })
        .collect();
    let want = [
        (Some("control"), Some("champion"), "<h1>Thank you, Jane</h1>"),
        (Some("we-miss-you"), Some("at-risk"), "<h1>We miss you</h1>"),
        (None, Some("champion"), "<h1>Thank you, Jane</h1>"),
        (Some("welcome"), Some("welcome"), "<h1>Welcome to Demo Gifts</h1>"),
    ];
    let want: Vec<(Option<String>, Option<String>, String)> = want.iter().map(|(a, v, h)| (a.map(Into::into), v.map(Into::into), (*h).into())).collect();
    assert_eq!(got, want);
    let d = e.decide(&champion("visitor-1"), "hero", NOW).unwrap();
    assert_eq!(d.explain.rule, "placements.hero.variants.at-risk");
}

#[test]
fn an_offer_experiment_gives_its_arms_offer_or_none() {
    let e = with(&store(), |r| {
        r.experiments.push(Experiment {
            key: "offer-test".into(),
            offer: "welcome".into(),
            arms: vec![
                Arm { name: "control".into(), ..Arm::default() },
                Arm { name: "none".into(), holdout: true, ..Arm::default() },
                Arm { name: "early".into(), offer: "early_access".into(), ..Arm::default() },
            ],
            ..Experiment::default()
        })
    });
    // GrowthBook (Node), key "offer-test", 3 equal arms: visitor-0 arm 0, visitor-1 arm 2
    // (early), visitor-7 arm 1 (none).
    let new = |id: &str| visitor(&e, id, "/", "null");
    let control = e.exit_offer(&new("visitor-0"), NOW).unwrap();
    assert_eq!((control.id.as_str(), control.explain.rule.as_str()), ("welcome", "offers.welcome"));
    assert_eq!(control.explain.experiment.map(|a| (a.key, a.arm)), Some(("offer-test".into(), "control".into())));
    let early = e.exit_offer(&new("visitor-1"), NOW).unwrap();
    assert_eq!((early.id.as_str(), early.explain.rule.as_str()), ("early_access", "experiments.offer-test.arms.early"));
    assert_eq!(early.explain.experiment.map(|a| a.arm), Some("early".into()), "given though its own `when` (Champions, Loyal) does not match");
    assert!(e.exit_offer(&new("visitor-7"), NOW).is_none(), "the holdout arm gets no offer");
    let arm = e.exit_offer_arm(&new("visitor-7")).map(|a| (a.key, a.arm));
    assert_eq!(arm, Some(("offer-test".into(), "none".into())), "but hosts can record its exposure");
    assert_eq!(e.exit_offer_arm(&new("visitor-1")).map(|a| a.arm), Some("early".into()));
    // Visitors who would get another offer are not in the experiment.
    let loyal = visitor(&e, "visitor-1", "/", r#"{"segment": "Loyal"}"#);
    let o = e.exit_offer(&loyal, NOW).unwrap();
    assert_eq!((o.id.as_str(), o.explain.experiment), ("early_access", None));
    assert_eq!(e.exit_offer_arm(&loyal), None);
}

/// `Experiment::arm_of` picks arms without building GrowthBook's ranges (it runs in the
/// browser): for weights `Rules::check` accepts, it agrees with `getBucketRanges` and
/// `chooseVariation` (this crate's, held to GrowthBook's cases by tests/conformance.rs).
#[test]
fn arms_are_growthbooks_ranges_and_variation() {
    use vitrine_engine::hashing;
    let arms = |n: usize| (0..n).map(|i| Arm { name: format!("arm{i}"), ..Arm::default() }).collect::<Vec<_>>();
    let configs: [(usize, f32, Vec<f32>); 5] = [(2, 1.0, vec![]), (3, 0.9, vec![0.2, 0.3, 0.5]), (2, 0.5, vec![0.1, 0.9]), (4, 1.0, vec![]), (3, 0.0, vec![])];
    for (n, coverage, weights) in configs {
        let e = Experiment { key: "k".into(), placement: "p".into(), coverage, weights: weights.clone(), arms: arms(n), ..Experiment::default() };
        let w: Vec<f64> = weights.iter().map(|&w| f64::from(w)).collect();
        let ranges = hashing::get_bucket_ranges(n, f64::from(coverage), (!w.is_empty()).then_some(&w[..]));
        for i in 0..2000 {
            let id = format!("visitor-{i}");
            let want = usize::try_from(hashing::choose_variation(hashing::hash("k", &id, 2).unwrap(), &ranges)).ok().map(|a| format!("arm{a}"));
            assert_eq!(e.arm_of(&id).map(|a| a.name.clone()), want, "{id}, {n} arms, coverage {coverage}, weights {weights:?}");
        }
    }
}
