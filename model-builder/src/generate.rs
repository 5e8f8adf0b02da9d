//! `model-builder generate`: a large, realistic, deterministic store for the scale benchmark
//! (`scripts/bench-scale.sh`) and tests: an orders export, a catalog export and a config that
//! builds them.
//!
//! Files written into the output folder:
//! - `orders.csv` (`orders.csv.gz` with gzip): `invoice,sku,title,quantity,date,price,customer,
//!   country`, one row per order line, days in order; cancellations (`C…`, negative quantity)
//!   follow the order they undo;
//! - `catalog.csv`: `id,title,url,image,price,category,brand,tags,in_stock` (tags `|`-separated);
//! - `vitrine.toml`: the columns mapped, plus the demo's rules (pages, segments, placements,
//!   offers: `examples/demo/vitrine.toml` from its "Rules stored in the bundle" line on) and
//!   one placement for the popular lists the demo does not use, so a page view touches every
//!   table.
//!
//! The structure a recommender should find, and what stresses a builder:
//! - titles from a small vocabulary: 500 product types (100 nouns × 5 forms) and a few hundred
//!   modifiers (style, colour, material, pattern, size), so every title word is shared by many
//!   products; ~40 categories of very uneven size (Zipf over types); brands with up to ~10% of
//!   the products; tags; prices by type, form and size; ~5% out of stock; ~30% of products
//!   launched during the period;
//! - Zipf popularity (exponent 0.9: the top 1% of products take roughly a third to a half of
//!   the lines);
//! - baskets around a mission: each product belongs to one latent theme (~25 products of 2–3
//!   types); an order picks a theme and draws most items from it, so pairs within a theme are
//!   bought together far more often than chance; basket sizes log-normal with ~1% bulk orders
//!   of 30–150 lines; a few Christmas themes that sell in November and December;
//! - customers with their own rate (log-normal, 0.3% whales with bulk baskets), an active
//!   window within the period, two favourite themes and items they buy again; many buy once;
//! - ~13% of orders by guests (no customer id), ~10% of the lines (the whales are customers); ~2% of
//!   known customers' lines cancelled (~1.8% of all lines);
//! - days weighted by weekday, season, a Christmas peak, holidays and growth; times of day from
//!   an hourly curve.
//!
//! Deterministic: one [`SplitMix64`] stream for the catalog (so the catalog depends only on the
//! seed, product count and years) and one for the orders, in one thread: the same options give
//! the same bytes. Streams to disk: memory is the catalog and the customers, not the lines.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::error::{Error, Result};
use crate::rng::{Alias, SplitMix64};

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub out: PathBuf,
    /// Rows of the orders file, cancellations included.
    pub lines: u64,
    pub products: u32,
    pub customers: u32,
    pub years: u32,
    pub seed: u64,
    pub gzip: bool,
}

/// What was written, for the CLI to print.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Generated {
    pub files: Vec<FileInfo>,
    pub orders: u64,
    pub lines: u64,
    pub cancelled_lines: u64,
    pub guest_lines: u64,
    pub products: u32,
    pub customers_with_orders: u32,
    pub first_day: String,
    pub last_day: String,
    pub seconds: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct FileInfo {
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use crate::fmt::{bytes, n, pct};
        for file in &self.files {
            writeln!(f, "{:<48} {:>12} rows {:>10}", file.path.display(), n(file.rows), bytes(file.bytes))?;
        }
        writeln!(
            f,
            "{} orders, {} lines ({} cancelled, {} by guests), {} products, {} customers with orders, {} .. {}",
            n(self.orders),
            n(self.lines),
            pct(self.cancelled_lines, self.lines),
            pct(self.guest_lines, self.lines),
            n(u64::from(self.products)),
            n(u64::from(self.customers_with_orders)),
            self.first_day,
            self.last_day
        )?;
        write!(f, "generated in {:.1} s", self.seconds)
    }
}

/// Customers when `--customers` is not given: 500k at 10M lines (about 300k of them order in
/// the period), in proportion below.
pub fn default_customers(lines: u64) -> u32 {
    (lines / 20).clamp(100, u64::from(u32::MAX)) as u32
}

/// The last day of every generated period; fixed so the output does not depend on the clock.
const LAST_DAY: (i32, u32, u32) = (2025, 12, 31);

pub fn generate(o: &GenerateOptions) -> Result<Generated> {
    let started = Instant::now();
    if o.lines == 0 || o.products == 0 || o.customers == 0 {
        return Err(Error::Invalid("generate: --lines, --products and --customers must be at least 1".into()));
    }
    if !(1..=20).contains(&o.years) {
        return Err(Error::Invalid(format!("generate: --years {} is not between 1 and 20", o.years)));
    }
    std::fs::create_dir_all(&o.out).map_err(Error::io(&o.out))?;
    let calendar = Calendar::new(o.years);
    let catalog = Catalog::new(o.products, o.seed, calendar.days);

    let catalog_path = o.out.join("catalog.csv");
    let catalog_bytes = write_file(&catalog_path, false, |w| catalog.write_csv(w))?;
    let orders_path = o.out.join(if o.gzip { "orders.csv.gz" } else { "orders.csv" });
    let mut stats = OrderStats::default();
    let orders_bytes = write_file(&orders_path, o.gzip, |w| {
        stats = Orders::new(&catalog, &calendar, o).write(w)?;
        Ok(())
    })?;
    let config_path = o.out.join("vitrine.toml");
    let config = config_toml(orders_path.file_name().and_then(|n| n.to_str()).unwrap_or("orders.csv"));
    std::fs::write(&config_path, &config).map_err(Error::io(&config_path))?;

    Ok(Generated {
        files: vec![
            FileInfo { path: orders_path, rows: stats.lines, bytes: orders_bytes },
            FileInfo { path: catalog_path, rows: u64::from(o.products), bytes: catalog_bytes },
            FileInfo { path: config_path, rows: 0, bytes: config.len() as u64 },
        ],
        orders: stats.orders,
        lines: stats.lines,
        cancelled_lines: stats.cancelled,
        guest_lines: stats.guest_lines,
        products: o.products,
        customers_with_orders: stats.customers_with_orders,
        first_day: calendar.date(0).to_string(),
        last_day: calendar.date(calendar.days - 1).to_string(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Creates `path`, lets `body` write it (through gzip when asked), and returns its size.
fn write_file(path: &Path, gzip: bool, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<u64> {
    let file = File::create(path).map_err(Error::io(path))?;
    let result = if gzip {
        // Level 1: the 10M-line file is ~1 GB of text; the default level triples the run time
        // for a file 10% smaller.
        let mut w = BufWriter::with_capacity(1 << 20, flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
        body(&mut w).and_then(|()| w.into_inner().map_err(|e| e.into_error())?.finish()?.sync_all())
    } else {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        body(&mut w).and_then(|()| w.into_inner().map_err(|e| e.into_error())?.sync_all())
    };
    result.map_err(Error::io(path))?;
    Ok(std::fs::metadata(path).map_err(Error::io(path))?.len())
}

// ------------------------------------------------------------------------------------------
// Vocabulary. No word holds a comma or a quote, so CSV fields are written as they are. Lists
// are packed by hand (`rustfmt::skip`): rustfmt would put each word on its own line.

#[rustfmt::skip]
const NOUNS: &[&str] = &[
    "MUG", "CUP", "PLATE", "BOWL", "JUG", "TEAPOT", "JAR", "TIN", "TRAY", "COASTER", "NAPKIN", "APRON", "TEA TOWEL",
    "OVEN GLOVE", "CAKE STAND", "CAKE TIN", "LUNCH BOX", "BOTTLE", "TUMBLER", "GLASS", "SPOON", "CHOPPING BOARD", "CANDLE",
    "T-LIGHT HOLDER", "LANTERN", "LAMP", "FAIRY LIGHTS", "VASE", "PLANT POT", "WATERING CAN", "BIRD FEEDER", "DOORMAT",
    "CUSHION", "THROW", "BLANKET", "QUILT", "CURTAIN", "RUG", "MIRROR", "CLOCK", "PHOTO FRAME", "WALL SIGN", "HOOK",
    "COAT RACK", "SHELF", "BASKET", "STORAGE BOX", "DRAWER", "TRINKET BOX", "BIN", "NOTEBOOK", "JOURNAL", "PENCIL", "PEN",
    "CARD", "GIFT WRAP", "GIFT BAG", "RIBBON", "STICKER", "CALENDAR", "DIARY", "TOTE BAG", "BACKPACK", "PURSE", "WALLET",
    "KEYRING", "UMBRELLA", "SCARF", "GLOVES", "HAT", "SOCKS", "SLIPPERS", "NECKLACE", "BRACELET", "EARRINGS", "RING",
    "HAIR CLIP", "SOAP", "BATH SALTS", "TOWEL", "WASHBAG", "HAND CREAM", "TOY", "DOLL", "TEDDY", "JIGSAW", "GAME", "BALLOON",
    "BUNTING", "PARTY CUP", "CRAYONS", "KITE", "DOG BOWL", "DOG TOY", "CAT TOY", "PET BED", "BISCUITS", "CHOCOLATE", "TEA",
    "COFFEE",
];
const FORMS: &[(&str, f64)] = &[("", 1.0), ("SET", 2.4), ("MINI", 0.6), ("KIT", 1.8), ("PACK OF 6", 3.0)];
#[rustfmt::skip]
const STYLES: &[&str] = &[
    "VINTAGE", "RETRO", "MODERN", "RUSTIC", "NORDIC", "BOHO", "CLASSIC", "COUNTRY", "FRENCH", "ENGLISH", "JAPANESE", "MOROCCAN",
    "SCANDI", "ART DECO", "INDUSTRIAL", "COTTAGE", "COASTAL", "TROPICAL", "FOLK", "GOTHIC", "MINIMAL", "PASTEL", "NEON",
    "PARISIAN", "VICTORIAN", "REGENCY", "BAROQUE", "SHABBY CHIC", "HANDMADE", "ORGANIC", "DELUXE", "LUXURY", "BASIC",
    "ESSENTIAL", "PREMIUM", "TRAVEL", "GARDEN", "KITCHEN", "PARTY", "WEDDING",
];
#[rustfmt::skip]
const COLOURS: &[&str] = &[
    "RED", "BLUE", "GREEN", "YELLOW", "PINK", "PURPLE", "ORANGE", "WHITE", "BLACK", "GREY", "CREAM", "IVORY", "NAVY", "TEAL",
    "MINT", "SAGE", "OLIVE", "MUSTARD", "CORAL", "PEACH", "LILAC", "LAVENDER", "TURQUOISE", "AQUA", "BURGUNDY", "RUST",
    "COPPER", "GOLD", "SILVER", "BRONZE", "CHARCOAL", "SAND", "STONE", "TAUPE", "BLUSH", "ROSE", "CHERRY", "LEMON", "LIME",
    "SKY BLUE", "DUCK EGG", "FOREST GREEN", "RUBY", "EMERALD", "SAPPHIRE", "AMBER", "PEARL", "SMOKE", "SNOW", "INK",
];
#[rustfmt::skip]
const MATERIALS: &[&str] = &[
    "CERAMIC", "ENAMEL", "GLASS", "WOODEN", "BAMBOO", "METAL", "ZINC", "TIN", "BRASS", "IRON", "STEEL", "COTTON", "LINEN",
    "WOOL", "FELT", "VELVET", "SILK", "JUTE", "WICKER", "RATTAN", "PAPER", "CARDBOARD", "PLASTIC", "SILICONE", "LEATHER",
    "CORK", "MARBLE", "SLATE", "STONEWARE", "PORCELAIN", "RESIN", "ACRYLIC", "CRYSTAL", "CANVAS", "DENIM",
];
#[rustfmt::skip]
const PATTERNS: &[&str] = &[
    "SPOTTY", "STRIPED", "FLORAL", "GINGHAM", "TARTAN", "PAISLEY", "POLKA DOT", "CHECKED", "HEART", "STAR", "MOON", "ROSE",
    "DAISY", "LEMON", "STRAWBERRY", "CHERRY", "BIRD", "OWL", "FOX", "BEAR", "RABBIT", "CAT", "DOG", "WHALE", "DINOSAUR",
    "UNICORN", "RAINBOW", "CLOUD", "LEAF", "FERN", "PALM", "CACTUS", "GEOMETRIC", "MARBLED", "TERRAZZO", "CONFETTI", "ALPHABET",
    "UNION JACK", "LOVE", "HOME SWEET HOME",
];
const SIZES: &[(&str, f64)] = &[("SMALL", 0.75), ("MEDIUM", 1.0), ("LARGE", 1.35), ("JUMBO", 1.8), ("XL", 1.6), ("TALL", 1.2), ("ROUND", 1.0), ("SQUARE", 1.0)];
#[rustfmt::skip]
const CATEGORIES: &[&str] = &[
    "Kitchen & Dining", "Home Decor", "Storage", "Candles & Lights", "Garden", "Stationery", "Gift Wrap & Cards",
    "Bags & Travel", "Jewellery", "Bath & Beauty", "Toys & Games", "Party", "Textiles", "Furniture", "Pets", "Food & Drink",
    "Baby", "Fashion", "Accessories", "Wall Art", "Tableware", "Bakeware", "Drinkware", "Outdoor Living", "Lighting", "Rugs",
    "Bedding", "Bathroom", "Office", "Crafts", "Books", "Seasonal", "Wedding", "Kids Room", "Picnic", "Wellbeing", "Clocks",
    "Mirrors", "Frames", "Gadgets",
];
#[rustfmt::skip]
const TAGS: &[&str] = &[
    "gift", "bestseller", "eco", "handmade", "vegan", "fair trade", "recycled", "personalised", "limited edition", "exclusive",
    "sale", "clearance", "bundle", "set", "for her", "for him", "for kids", "for the home", "birthday", "anniversary",
    "wedding", "new home", "teacher gift", "secret santa", "stocking filler", "under 10", "under 25", "luxury", "travel",
    "summer", "winter", "autumn", "spring", "outdoor", "indoor", "british made", "imported", "dishwasher safe",
    "machine washable", "organic", "plastic free", "compostable", "matching set", "collectable", "retro", "mindful", "baking",
    "coffee lover", "tea lover", "pet lover", "gardener", "book lover", "crafty", "party", "picnic", "office", "student",
    "new baby", "thank you", "sympathy",
];
#[rustfmt::skip]
const BRAND_HEADS: &[&str] = &[

    "Al", "Bel", "Cor", "Dun", "El", "Fen", "Gar", "Hol", "Ivy", "Jun", "Kel", "Lin", "Mar", "Nor", "Oak", "Pen", "Quin", "Ros", "Sal", "Tam", "Ul", "Val",
    "Wren", "Yar", "Zel", "Ash", "Brook", "Clay", "Dale", "Elm", "Fern", "Glen", "Heath", "Isle", "Kin", "Lark", "Moss", "Nest", "Orch", "Pine",
];
#[rustfmt::skip]
const BRAND_TAILS: &[&str] = &[

    "ton", "ford", "wick", "ly", "co", "wood", "field", "bury", "more", "stead", "hurst", "ridge", "well", "worth", "by", "ham", "dale", "combe", "marsh",
    "gate", "house", " & Co", "Home", "Living", "Studio", " Makers", " Goods", " Works", "craft", "ware", "ling", "wynn", "stone", "brook", "thorpe", "mere",
    "land", "shaw", "holm", "cliff", "port", "mouth", "side", "vale", "bourne", "cott", "ley", "wade", "hythe", "croft", "lea", "ing", "sey", "ny", "ia",
    "ora", "elle", "ette", "ico", "o", "a", "en", "er",
];
#[rustfmt::skip]
const COUNTRIES: &[&str] = &[
    "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland", "Portugal", "Australia", "Norway", "Italy",
    "Finland", "Sweden", "Denmark", "Austria", "Poland", "Japan", "USA", "Canada", "Israel", "Greece", "Cyprus", "Iceland",
    "Singapore", "Malta",
];
/// Share of customers (and guests) in the home country.
const HOME_SHARE: f64 = 0.82;
const HOME_COUNTRY: &str = "United Kingdom";

// ------------------------------------------------------------------------------------------
// The catalog: products, their themes, and the tables orders draw from.

pub struct Product {
    pub sku: String,
    pub title: String,
    pub category: u16,
    pub brand: u32,
    pub tags: Vec<u16>,
    pub price_cents: u32,
    pub in_stock: bool,
    /// The latent theme (shopping mission) the product belongs to: orders draw most of their
    /// items from one theme, so this is the ground truth of "bought together".
    pub theme: u32,
    /// First day it can be ordered (0 for products sold from the start).
    pub launch_day: u32,
}

pub struct Catalog {
    pub products: Vec<Product>,
    bestseller: u32,
    brands: Vec<String>,
    /// Per theme: its products and a draw by popularity within it.
    themes: Vec<(Vec<u32>, Alias)>,
    /// Draws a product by its Zipf popularity.
    by_popularity: Alias,
    /// Draws a theme by its total popularity: the everyday missions and the Christmas ones.
    everyday_themes: Alias,
    christmas_themes: Alias,
}

/// Products per theme on average.
const THEME_SIZE: u32 = 25;
const ZIPF_EXPONENT: f64 = 0.9;

impl Catalog {
    /// The catalog `generate` writes for these options (it depends on the seed, the product
    /// count and the years only): tests read the products' themes from it.
    pub fn of(o: &GenerateOptions) -> Catalog {
        Catalog::new(o.products, o.seed, Calendar::new(o.years).days)
    }

    /// The catalog for `products` and `seed` (and the period length, for launch days).
    fn new(products: u32, seed: u64, days: u32) -> Catalog {
        let mut rng = SplitMix64::new(seed ^ 0xCA7A_1065_EED5_0001);
        let n = products as usize;

        // Types: 100 nouns × 5 forms, in a random order of frequency (Zipf 1.0), each with a
        // base price and a category (Zipf 1.1 over categories, so a few are huge).
        let types: Vec<(usize, usize)> = (0..NOUNS.len()).flat_map(|noun| (0..FORMS.len()).map(move |form| (noun, form))).collect();
        let mut type_order: Vec<usize> = (0..types.len()).collect();
        rng.partial_shuffle(&mut type_order, types.len());
        let mut type_weight = vec![0.0; types.len()];
        for (rank, &t) in type_order.iter().enumerate() {
            type_weight[t] = 1.0 / (rank as f64 + 1.0);
        }
        let pick_type = Alias::new(&type_weight);
        let category_weights: Vec<f64> = (0..CATEGORIES.len()).map(|r| 1.0 / (r as f64 + 1.0).powf(1.1)).collect();
        let pick_category = Alias::new(&category_weights);
        let type_category: Vec<u16> = types.iter().map(|_| pick_category.sample(&mut rng) as u16).collect();
        let type_price: Vec<f64> = types.iter().map(|&(_, form)| (1.8 + 0.8 * rng.normal()).exp() * FORMS[form].1).collect();

        // Themes: 2–3 types each; a few are Christmas missions.
        let theme_count = (products / THEME_SIZE).max(1) as usize;
        let theme_types: Vec<Vec<usize>> = (0..theme_count).map(|_| (0..2 + rng.below(2)).map(|_| pick_type.sample(&mut rng)).collect()).collect();
        let christmas: Vec<bool> = (0..theme_count).map(|_| rng.chance(0.06)).collect();

        let brand_count = (products / 40).clamp(10, 50_000) as usize;
        let brands: Vec<String> = (0..brand_count).map(brand_name).collect();
        let brand_weights: Vec<f64> = (0..brand_count).map(|r| 1.0 / (r as f64 + 1.0)).collect();
        let pick_brand = Alias::new(&brand_weights);
        let tag_weights: Vec<f64> = (0..TAGS.len()).map(|r| 1.0 / (r as f64 + 1.0)).collect();
        let pick_tag = Alias::new(&tag_weights);

        let mut items = Vec::with_capacity(n);
        for p in 0..n {
            let theme = rng.below(theme_count);
            let ty = theme_types[theme][rng.below(theme_types[theme].len())];
            let (noun, form) = types[ty];
            let mut title = String::with_capacity(48);
            let mut word = |w: &str| {
                if w.is_empty() {
                    return;
                }
                if !title.is_empty() {
                    title.push(' ');
                }
                title.push_str(w);
            };
            if christmas[theme] {
                word("CHRISTMAS");
            }
            if rng.chance(0.45) {
                word(STYLES[rng.below(STYLES.len())]);
            }
            if rng.chance(0.7) {
                word(COLOURS[rng.below(COLOURS.len())]);
            }
            if rng.chance(0.3) {
                word(PATTERNS[rng.below(PATTERNS.len())]);
            }
            if rng.chance(0.5) {
                word(MATERIALS[rng.below(MATERIALS.len())]);
            }
            word(NOUNS[noun]);
            word(FORMS[form].0);
            let mut price = type_price[ty] * (0.12 * rng.normal()).exp();
            if rng.chance(0.3) {
                let (size, factor) = SIZES[rng.below(SIZES.len())];
                word(size);
                price *= factor;
            }
            let mut tags: Vec<u16> = (0..rng.below(4)).map(|_| pick_tag.sample(&mut rng) as u16).collect();
            if christmas[theme] {
                tags.push(TAGS.iter().position(|&t| t == "secret santa").unwrap_or(0) as u16);
            }
            tags.sort_unstable();
            tags.dedup();
            items.push(Product {
                sku: format!("P{p:06}"),
                title,
                category: type_category[ty],
                brand: pick_brand.sample(&mut rng) as u32,
                tags,
                price_cents: shelf_price(price),
                in_stock: !rng.chance(0.05),
                theme: theme as u32,
                launch_day: if rng.chance(0.3) { rng.below(days as usize) as u32 } else { 0 },
            });
        }

        // Popularity: Zipf over a random order of the products.
        let mut order: Vec<usize> = (0..n).collect();
        rng.partial_shuffle(&mut order, n);
        let mut popularity = vec![0.0; n];
        for (rank, &p) in order.iter().enumerate() {
            popularity[p] = 1.0 / (rank as f64 + 1.0).powf(ZIPF_EXPONENT);
        }
        // The bestseller is sold from the first day: an order always finds something.
        let bestseller = order[0] as u32;
        items[order[0]].launch_day = 0;
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); theme_count];
        for (p, product) in items.iter().enumerate() {
            members[product.theme as usize].push(p as u32);
        }
        let theme_weight: Vec<f64> = members.iter().map(|m| m.iter().map(|&p| popularity[p as usize]).sum()).collect();
        let only = |keep: bool| -> Vec<f64> { theme_weight.iter().zip(&christmas).map(|(&w, &c)| if c == keep { w } else { 0.0 }).collect() };
        let themes = members
            .into_iter()
            .map(|m| {
                let pick = Alias::new(&m.iter().map(|&p| popularity[p as usize]).collect::<Vec<_>>());
                (m, pick)
            })
            .collect();
        Catalog {
            by_popularity: Alias::new(&popularity),
            everyday_themes: Alias::new(&only(false)),
            christmas_themes: Alias::new(&only(true)),
            products: items,
            bestseller,
            brands,
            themes,
        }
    }

    pub fn brand(&self, p: &Product) -> &str {
        &self.brands[p.brand as usize]
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "id,title,url,image,price,category,brand,tags,in_stock")?;
        for p in &self.products {
            write!(w, "{},{},/products/{},/images/{}.jpg,", p.sku, p.title, p.sku, p.sku)?;
            write_cents(w, i64::from(p.price_cents))?;
            write!(w, ",{},{},", CATEGORIES[p.category as usize], self.brand(p))?;
            for (i, &t) in p.tags.iter().enumerate() {
                w.write_all(if i == 0 { b"" } else { b"|" })?;
                w.write_all(TAGS[t as usize].as_bytes())?;
            }
            writeln!(w, ",{}", if p.in_stock { "yes" } else { "no" })?;
        }
        Ok(())
    }

    /// A product of `theme` by popularity within it (None for a theme without products).
    fn pick_in_theme(&self, theme: usize, rng: &mut SplitMix64) -> Option<u32> {
        let (members, pick) = &self.themes[theme];
        (!members.is_empty()).then(|| members[pick.sample(rng)])
    }
}

/// Prices end in .99 above £5, in 5p steps below (never under 25p).
fn shelf_price(pounds: f64) -> u32 {
    if pounds >= 5.0 {
        (pounds.round() as u32) * 100 - 1
    } else {
        ((pounds * 20.0).round() as u32).max(5) * 5
    }
}

/// Brand `b`: head × tail names (2,560), then the same with a number.
fn brand_name(b: usize) -> String {
    let (h, t) = (BRAND_HEADS.len(), BRAND_TAILS.len());
    let name = format!("{}{}", BRAND_HEADS[b % h], BRAND_TAILS[(b / h) % t]);
    match b / (h * t) {
        0 => name,
        round => format!("{name} {round}"),
    }
}

fn write_cents(w: &mut dyn Write, cents: i64) -> std::io::Result<()> {
    let sign = if cents < 0 { "-" } else { "" };
    write!(w, "{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

// ------------------------------------------------------------------------------------------
// The calendar: days of the period and how busy each is.

struct Calendar {
    first: NaiveDate,
    days: u32,
    /// Share of the period's lines sold by the end of each day (the last is 1).
    cumulative: Vec<f64>,
    /// Chance that an order on each day is a Christmas mission.
    christmas: Vec<f64>,
}

/// Orders per hour of the day (relative).
const HOURS: [f64; 24] = [0.3, 0.15, 0.1, 0.08, 0.08, 0.15, 0.4, 0.9, 1.4, 1.8, 2.0, 2.1, 2.3, 2.2, 2.0, 1.9, 1.9, 2.0, 2.3, 2.7, 2.9, 2.5, 1.6, 0.8];

impl Calendar {
    fn new(years: u32) -> Calendar {
        let (y, m, d) = LAST_DAY;
        let last = NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
        let first = NaiveDate::from_ymd_opt(y - years as i32, m, d).expect("a valid date") + Duration::days(1);
        let days = (last - first).num_days() as u32 + 1;
        let mut weights = Vec::with_capacity(days as usize);
        let mut christmas = Vec::with_capacity(days as usize);
        for i in 0..days {
            let date = first + Duration::days(i64::from(i));
            let doy = f64::from(date.ordinal());
            let weekday = match date.weekday() {
                Weekday::Mon => 1.05,
                Weekday::Tue => 1.0,
                Weekday::Wed => 1.0,
                Weekday::Thu => 1.1,
                Weekday::Fri => 0.9,
                Weekday::Sat => 0.75,
                Weekday::Sun => 0.95,
            };
            // Busier from autumn to winter, a Christmas peak in early December.
            let season = 1.0 + 0.2 * (std::f64::consts::TAU * (doy - 320.0) / 365.25).cos();
            let peak = 1.0 + 1.5 * (-0.5 * ((doy - 342.0) / 12.0).powi(2)).exp();
            let holiday = match (date.month(), date.day()) {
                (12, 24) | (12, 31) => 0.5,
                (12, 25) | (12, 26) => 0.15,
                (1, 1) => 0.4,
                _ => 1.0,
            };
            let growth = 1.0 + 0.4 * f64::from(i) / f64::from(days);
            weights.push(weekday * season * peak * holiday * growth);
            christmas.push(0.01 + 0.35 * (-0.5 * ((doy - 340.0) / 18.0).powi(2)).exp());
        }
        let total: f64 = weights.iter().sum();
        let mut sum = 0.0;
        let mut cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                sum += w;
                sum / total
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Calendar { first, days, cumulative, christmas }
    }

    fn date(&self, day: u32) -> NaiveDate {
        self.first + Duration::days(i64::from(day))
    }

    /// Seconds into the day at `fraction` of the day's orders (the hourly curve's inverse), so
    /// orders come out in time order.
    fn second_of_day(fraction: f64) -> u32 {
        let total: f64 = HOURS.iter().sum();
        let mut target = fraction.clamp(0.0, 1.0) * total;
        for (hour, &w) in HOURS.iter().enumerate() {
            if target < w {
                return hour as u32 * 3600 + ((target / w) * 3599.0) as u32;
            }
            target -= w;
        }
        86_399
    }
}

// ------------------------------------------------------------------------------------------
// Customers and orders.

struct Customer {
    first_day: u32,
    last_day: u32,
    country: u8,
    whale: bool,
    favourite_themes: [u32; 2],
    /// Recent purchases (a ring), for buying again; u32::MAX is empty.
    recent: [u32; 4],
    orders: u32,
}

#[derive(Default)]
struct OrderStats {
    orders: u64,
    lines: u64,
    cancelled: u64,
    guest_lines: u64,
    customers_with_orders: u32,
}

struct Orders<'a> {
    catalog: &'a Catalog,
    calendar: &'a Calendar,
    lines: u64,
    rng: SplitMix64,
    customers: Vec<Customer>,
    pick_customer: Alias,
    pick_country: Alias,
}

/// Share of orders placed by guests.
const GUEST_ORDERS: f64 = 0.13;
/// Share of known customers' lines cancelled afterwards.
const CANCELLED: f64 = 0.02;

impl<'a> Orders<'a> {
    fn new(catalog: &'a Catalog, calendar: &'a Calendar, o: &GenerateOptions) -> Orders<'a> {
        let mut rng = SplitMix64::new(o.seed ^ 0x0D0E_5A1E_5000_0002);
        let days = calendar.days as f64;
        let country_weights: Vec<f64> =
            std::iter::once(HOME_SHARE).chain((0..COUNTRIES.len()).map(|r| (1.0 - HOME_SHARE) / ((r as f64 + 1.0) * 3.8))).collect();
        let pick_country = Alias::new(&country_weights);
        let mut weights = Vec::with_capacity(o.customers as usize);
        let customers = (0..o.customers)
            .map(|_| {
                // Active from a day that may precede the period, for an exponential time.
                let start = (rng.uniform() * 1.3 - 0.3) * days;
                let span = -(1.0 - rng.uniform()).ln() * days * 0.9;
                let first_day = start.max(0.0) as u32;
                let last_day = ((start + span).min(days - 1.0)).max(f64::from(first_day)) as u32;
                let whale = rng.chance(0.003);
                let rate = (1.1 * rng.normal()).exp() * if whale { 30.0 } else { 1.0 };
                // A window partly before the period sells less within it.
                weights.push(rate * (f64::from(last_day - first_day) + 1.0) / (span + 1.0).max(1.0));
                Customer {
                    first_day,
                    last_day,
                    country: pick_country.sample(&mut rng) as u8,
                    whale,
                    favourite_themes: [catalog.everyday_themes.sample(&mut rng) as u32, catalog.everyday_themes.sample(&mut rng) as u32],
                    recent: [u32::MAX; 4],
                    orders: 0,
                }
            })
            .collect();
        Orders { catalog, calendar, lines: o.lines, rng, customers, pick_customer: Alias::new(&weights), pick_country }
    }

    fn write(mut self, w: &mut dyn Write) -> std::io::Result<OrderStats> {
        writeln!(w, "invoice,sku,title,quantity,date,price,customer,country")?;
        let mut stats = OrderStats::default();
        let mut invoice: u64 = 1_000_000;
        let mut basket: Vec<(u32, i64)> = Vec::with_capacity(160);
        let mut cancel: Vec<(u32, i64)> = Vec::new();
        for day in 0..self.calendar.days {
            let end = (self.lines as f64 * self.calendar.cumulative[day as usize]).round() as u64;
            let start = stats.lines;
            let day_lines = end.saturating_sub(start).max(1) as f64;
            let date = self.calendar.date(day);
            while stats.lines < end {
                let second = Calendar::second_of_day((stats.lines - start) as f64 / day_lines);
                let customer = if self.rng.chance(GUEST_ORDERS) { None } else { Some(self.customer(day)) };
                self.basket(day, customer, &mut basket);
                let (country, id) = match customer {
                    Some(c) => (self.customers[c].country as usize, Some(c)),
                    None => (self.pick_country.sample(&mut self.rng), None),
                };
                let country = if country == 0 { HOME_COUNTRY } else { COUNTRIES[country - 1] };
                let left = (end - stats.lines) as usize;
                basket.truncate(left);
                cancel.clear();
                if id.is_some() {
                    cancel.extend(basket.iter().filter(|_| self.rng.chance(CANCELLED)).map(|&(p, q)| (p, -q)));
                }
                let stamp = format!("{date} {:02}:{:02}:{:02}", second / 3600, second / 60 % 60, second % 60);
                invoice += 1;
                self.write_lines(w, &invoice.to_string(), &basket, &stamp, id, country)?;
                stats.orders += 1;
                stats.lines += basket.len() as u64;
                if id.is_none() {
                    stats.guest_lines += basket.len() as u64;
                }
                // One cancellation invoice per order, an hour or so later (never past midnight,
                // so the file stays in day order), inside the day's share of lines.
                cancel.truncate((end - stats.lines) as usize);
                if !cancel.is_empty() {
                    let later = (second + 600 + self.rng.below(7200) as u32).min(86_399);
                    let stamp = format!("{date} {:02}:{:02}:{:02}", later / 3600, later / 60 % 60, later % 60);
                    invoice += 1;
                    self.write_lines(w, &format!("C{invoice}"), &cancel, &stamp, id, country)?;
                    stats.lines += cancel.len() as u64;
                    stats.cancelled += cancel.len() as u64;
                }
            }
        }
        stats.customers_with_orders = self.customers.iter().filter(|c| c.orders > 0).count() as u32;
        Ok(stats)
    }

    fn write_lines(&self, w: &mut dyn Write, invoice: &str, lines: &[(u32, i64)], stamp: &str, customer: Option<usize>, country: &str) -> std::io::Result<()> {
        for &(p, quantity) in lines {
            let product = &self.catalog.products[p as usize];
            write!(w, "{invoice},{},{},{quantity},{stamp},", product.sku, product.title)?;
            write_cents(w, i64::from(product.price_cents))?;
            match customer {
                Some(c) => writeln!(w, ",{},{country}", 10_000 + c)?,
                None => writeln!(w, ",,{country}")?,
            }
        }
        Ok(())
    }

    /// A known customer active on `day` (by rate; after a few misses, the last one drawn).
    fn customer(&mut self, day: u32) -> usize {
        let mut c = 0;
        for _ in 0..24 {
            c = self.pick_customer.sample(&mut self.rng);
            let k = &self.customers[c];
            if (k.first_day..=k.last_day).contains(&day) {
                break;
            }
        }
        self.customers[c].orders += 1;
        c
    }

    /// The items of one order and their quantities.
    fn basket(&mut self, day: u32, customer: Option<usize>, out: &mut Vec<(u32, i64)>) {
        out.clear();
        let rng = &mut self.rng;
        let catalog = self.catalog;
        let whale = customer.is_some_and(|c| self.customers[c].whale);
        let bulk = rng.chance(if whale { 0.3 } else { 0.01 });
        let size = if bulk { 30 + rng.below(121) } else { 1 + (1.3 + 0.75 * rng.normal()).exp().min(60.0) as usize };
        let mission = if rng.chance(self.calendar.christmas[day as usize]) && !catalog.christmas_themes.is_empty() {
            catalog.christmas_themes.sample(rng)
        } else {
            match customer {
                Some(c) if rng.chance(0.5) => self.customers[c].favourite_themes[rng.below(2)] as usize,
                _ => catalog.everyday_themes.sample(rng),
            }
        };
        let side = catalog.everyday_themes.sample(rng);
        let mut tries = 0;
        while out.len() < size && tries < size * 4 {
            tries += 1;
            let roll = rng.uniform();
            let recent = customer.map(|c| self.customers[c].recent[rng.below(4)]).filter(|&p| p != u32::MAX);
            let pick = match (roll, recent) {
                (r, Some(p)) if r < 0.12 => Some(p),
                (r, _) if r < 0.75 => catalog.pick_in_theme(mission, rng),
                (r, _) if r < 0.85 => catalog.pick_in_theme(side, rng),
                _ => Some(catalog.by_popularity.sample(rng) as u32),
            };
            let Some(p) = pick else { continue };
            if catalog.products[p as usize].launch_day > day || out.iter().any(|&(q, _)| q == p) {
                continue;
            }
            // Mostly one; the rest skewed towards small numbers.
            let quantity = if rng.chance(0.65) {
                1
            } else {
                let most = rng.below(11) + 1;
                2 + rng.below(most) as i64
            };
            out.push((p, if bulk { quantity * (6 + rng.below(19) as i64) } else { quantity }));
        }
        if out.is_empty() {
            out.push((catalog.bestseller, 1));
        }
        if let Some(c) = customer {
            let k = &mut self.customers[c];
            for (i, &(p, _)) in out.iter().take(2).enumerate() {
                k.recent[(k.orders as usize * 2 + i) % 4] = p;
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// The config.

/// The demo's rules, from this line on: the generated store plays the same pages, segments,
/// placements and offers.
const DEMO_CONFIG: &str = include_str!("../../examples/demo/vitrine.toml");
const RULES_MARK: &str = "# Rules stored in the bundle.";

fn config_toml(orders_file: &str) -> String {
    let rules = DEMO_CONFIG.find(RULES_MARK).map_or(DEMO_CONFIG, |at| &DEMO_CONFIG[at..]);
    format!(
        r#"# A store generated by `model-builder generate` (see model-builder/src/generate.rs); the
# rules are examples/demo/vitrine.toml's, plus a placement for the popular lists.
#   model-builder build --config vitrine.toml --out store.bin

[store]
name = "Vitrine generated store"
currency = "GBP"
currency_symbol = "£"
base_url = "https://shop.example"
free_shipping_threshold = 50.0

[orders]
path = "{orders_file}"
date_format = "%Y-%m-%d %H:%M:%S"

[orders.columns]
invoice = "invoice"
sku = "sku"
title = "title"
quantity = "quantity"
date = "date"
price = "price"
customer = "customer"
country = "country"

[cleaning]
cancelled_prefix = "C"
reverse_cancellations = true
# The generator writes no bad row: one is a bug, so it stops the build.
bad_rows = "stop"

[catalog]
path = "catalog.csv"
tags_separator = "|"

# Category pages: the lists the demo's placements do not use, so a page view reads every table.
[[placements]]
id = "category-top"
when = {{ "page.type" = "category" }}
title = "Top in this category"
max_items = 8
sources = [
  {{ recommender = "popular_category", weight = 2.0 }},
  {{ recommender = "popular_country", weight = 1.0 }},
  {{ recommender = "popular", weight = 0.5 }},
]

# ------------------------------------------------------------------------------------------
{rules}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_parses_and_keeps_the_demo_rules() {
        let text = config_toml("orders.csv.gz");
        let config: crate::config::Config = toml::from_str(&text).expect("generated config parses");
        assert_eq!(config.orders.path.as_deref(), Some(Path::new("orders.csv.gz")));
        let ids: Vec<&str> = config.placements.iter().map(|p| p.id.as_str()).collect();
        assert!(ids.contains(&"pdp-pair-with") && ids.contains(&"category-top"), "{ids:?}");
        assert!(!config.offers.is_empty());
    }

    #[test]
    fn times_of_day_rise_with_the_share_of_orders() {
        let times: Vec<u32> = (0..=100).map(|i| Calendar::second_of_day(f64::from(i) / 100.0)).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(times[50] > 12 * 3600 && times[50] < 17 * 3600, "half the orders by mid-afternoon: {}", times[50]);
    }
}
