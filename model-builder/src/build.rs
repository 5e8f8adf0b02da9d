//! `model-builder build`: config -> ingest -> aggregates -> RFM -> recommendation tables ->
//! bundle; or, with `--aggregates DIR`, config + aggregates counted elsewhere (sql/SCHEMA.md)
//! -> the same RFM, tables and bundle. Either way `--events FILES` adds the tables browsing
//! makes (`crate::events`, `recs/views.rs`).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Product, SegmentSize, Stats, FORMAT_VERSION};

use crate::aggregates::{self, Aggregates, Totals};
use crate::config::LoadedConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::events::{self, EventsReport};
use crate::ingest::customers::CustomersReport;
use crate::ingest::{self, IngestReport};
use crate::predict::{PredictReport, Summaries};
use crate::progress::Progress;
use crate::tables::TableSizes;
use crate::{check, recs, rfm};

#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    pub config: PathBuf,
    pub out: PathBuf,
    /// Overrides `orders.path` of the config.
    pub orders: Option<PathBuf>,
    /// Overrides `catalog.path` of the config.
    pub catalog: Option<PathBuf>,
    /// Where to write the private customer profiles (JSONL).
    pub profiles: Option<PathBuf>,
    /// Overrides `customers.path` of the config.
    pub customers: Option<PathBuf>,
    /// Customer ids erased by privacy requests (one per line, `scripts/privacy.sh erased`):
    /// left out of the profiles, whatever the exports say.
    pub erased: Option<PathBuf>,
    /// Build from the aggregate files of this directory and its `products.csv` instead of
    /// from order lines.
    pub aggregates: Option<PathBuf>,
    /// Also write the aggregates counted from the order lines here (sql/SCHEMA.md's files).
    pub write_aggregates: Option<PathBuf>,
    /// Measurement record files or folders (`crate::events`): browsing adds viewed together,
    /// bought after viewing, and views to trending.
    pub events: Vec<PathBuf>,
}

/// Everything the build did, for the summary (`summary::render`).
#[derive(Clone, Debug, Serialize)]
pub struct BuildSummary {
    /// What reading the order lines kept and dropped (none when built from aggregates).
    pub ingest: Option<IngestReport>,
    /// The aggregates directory, when built from one.
    pub aggregates: Option<PathBuf>,
    pub dataset: DatasetCounts,
    pub segments: Vec<SegmentSize>,
    pub tables: TableSizes,
    pub bundle: BundleInfo,
    pub profiles: Option<PathBuf>,
    /// The customers export, when one was read (it reaches the profiles only).
    pub customers: Option<CustomersReport>,
    /// What `--events` read, when given.
    pub events: Option<EventsReport>,
    /// The predictive models' fits, or why there are none.
    pub predict: PredictReport,
    /// (step, seconds)
    pub timings: Vec<(&'static str, f64)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DatasetCounts {
    pub orders: u64,
    pub lines: u64,
    pub products: u64,
    pub categories: u64,
    pub customers: u64,
    pub countries: u64,
    pub guest_orders: u64,
    pub first_day: String,
    pub last_day: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct BundleInfo {
    pub path: PathBuf,
    pub bytes: u64,
    pub build_id: String,
    pub created_at: i64,
}

pub fn build(opts: &BuildOptions, progress: Progress) -> Result<BuildSummary> {
    let started = Instant::now();
    let mut laps = Laps { last: Instant::now(), timings: Vec::new() };

    let loaded = LoadedConfig::read(&opts.config)?;
    check::check(&loaded)?;
    let config = &loaded.config;
    laps.lap("config");

    let Counted { products, categories, created_at, aggregates, ingest } = match &opts.aggregates {
        Some(dir) => from_aggregates(dir, opts, &loaded, &progress)?,
        None => from_lines(opts, &loaded, &progress, &mut laps)?,
    };
    if ingest.is_none() {
        laps.lap("read aggregates");
    }
    check::catalog(&loaded, &products)?;
    if let Some(dir) = &opts.write_aggregates {
        aggregates::write_dir(dir, &aggregates, &products, &categories)?;
    }

    // The customers export only goes into the private profiles: without --profiles the one in
    // the config is not read (a bundle-only build), and one passed on the command line is a
    // mistake worth saying.
    if let (Some(path), None) = (&opts.customers, &opts.profiles) {
        return Err(Error::Invalid(format!("{}: a customers export only goes into the private profiles: pass --profiles too", path.display())));
    }
    let customers_path = opts.customers.clone().or_else(|| config.customers.path.as_deref().map(|p| loaded.resolve(p))).filter(|_| opts.profiles.is_some());
    let (customers, customers_report) = match &customers_path {
        Some(path) => {
            let (rows, report) = ingest::read_customers(config, path)?;
            (rows, Some(report))
        }
        None => (Vec::new(), None),
    };
    let erased: rustc_hash::FxHashSet<String> = match &opts.erased {
        Some(path) => std::fs::read_to_string(path)
            .map_err(Error::io(path))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
        None => Default::default(),
    };
    let customers: Vec<_> = customers.into_iter().filter(|c| !erased.contains(&c.id)).collect();
    // Fitted on the customers aggregate, however it was counted: the same fits from lines or SQL.
    let summaries = Summaries::from_aggregates(&aggregates.customers, aggregates.as_of().div_euclid(vitrine_engine::civil::DAY_SECS));
    let predict = match &summaries {
        Ok(summaries) => {
            let bar = progress.spinner("fitting the predictive models");
            let report = PredictReport::fit(summaries);
            bar.finish_and_clear();
            report
        }
        Err(why) => PredictReport::not_fitted(why),
    };
    laps.lap("predict");
    let bar = progress.step("RFM profiles", "customers", aggregates.customers.ids.len() as u64);
    let ids = &aggregates.customers.ids;
    let (mut profiles, mut customer_model) = rfm::profiles_from(&aggregates.customers, aggregates.as_of());
    rfm::with_top_brands(&mut profiles, &aggregates.customers, &products);
    for (p, s) in profiles.iter_mut().zip(&aggregates.customers.stats) {
        p.purchase_days = s.purchase_days.map(|days| (days, s.repeat_spend));
    }
    if let Ok(summaries) = &summaries {
        // The edge scores a customer's new order with the same fits and settings.
        customer_model.bgnbd = predict.bgnbd.as_ref().ok().map(|f| f.params);
        customer_model.gamma_gamma = predict.gamma_gamma.as_ref().ok().map(|f| f.params);
        customer_model.bgnbd_fit = predict.bgnbd.as_ref().ok().map(crate::predict::Fit::diagnostics);
        customer_model.gamma_gamma_fit = predict.gamma_gamma.as_ref().ok().map(crate::predict::Fit::diagnostics);
        customer_model.predict = config.predict;
        if opts.profiles.is_some() {
            for (p, prediction) in profiles.iter_mut().zip(predict.predictions(summaries, &config.predict)) {
                p.predicted = prediction;
            }
        }
    }
    let segments = rfm::segment_sizes(&profiles);
    if let Some(path) = &opts.profiles {
        let kept: Vec<_> = profiles.iter().filter(|p| !erased.contains(&ids[p.customer as usize])).cloned().collect();
        rfm::write_profiles(path, ids, &products, &categories, &kept, &customers)?;
    }
    bar.finish_and_clear();
    laps.lap("rfm");

    let customer_segment: Vec<&str> = profiles.iter().map(|p| p.segment.name()).collect();
    let mut table_timings = Vec::new();
    // The learned table is built only for a store that blends it: at 100k products it is
    // ~9 MB of bundle and most of a minute of CPU (BENCHMARKS.md "Scale").
    let mut recs_config = config.recs.clone();
    if !config.rules().uses("learned") {
        recs_config.learned_candidates = 0;
    }
    let mut tables = recs::tables(&aggregates, &products, &categories, &recs_config, &customer_segment, &progress, &mut table_timings);
    tables.new_arrivals = recs::new_arrivals(&products, &created_at, aggregates.as_of(), &config.recs);
    laps.lap("recs");
    laps.timings.extend(table_timings);
    let events = match opts.events.as_slice() {
        [] => None,
        paths => {
            let bar = progress.spinner("reading events");
            let browsing = events::read(paths, &products, now())?;
            let trend: Vec<f64> = aggregates.items.iter().map(|i| i.trend).collect();
            let views = recs::views::view_tables(&browsing, products.len(), &trend, aggregates.as_of(), &config.recs);
            tables.viewed_together = views.viewed_together;
            tables.bought_after_viewing = views.bought_after_viewing;
            if let Some(trending) = views.trending {
                tables.trending = trending;
            }
            bar.finish_and_clear();
            laps.lap("events");
            Some(browsing.report)
        }
    };
    let table_sizes = TableSizes::of(&tables);

    let dataset = counts(&aggregates.totals, &products, &categories);
    let t = &aggregates.totals;
    let bar = progress.step("encoding the bundle", "products", products.len() as u64);
    let body = BundleBody {
        store: config.store.clone(),
        catalog: catalog(products, categories),
        stats: Stats {
            orders: t.orders,
            order_lines: t.lines,
            customers: t.customers,
            countries: t.countries as u32,
            data_start: t.first_time,
            data_end: t.last_time,
            segments: segments.clone(),
            customer_model: Some(Box::new(customer_model)),
        },
        recs: tables,
        rules: config.rules(),
    };
    let header = Header { format_version: FORMAT_VERSION, build_id: build_id()?, created_at: now() };
    let bytes = bundle::encode(&header, &body);
    write_atomically(&opts.out, &bytes)?;
    bar.finish_and_clear();
    laps.lap("encode");
    let mut timings = laps.timings;
    timings.push(("total", started.elapsed().as_secs_f64()));

    Ok(BuildSummary {
        ingest,
        aggregates: opts.aggregates.clone(),
        dataset,
        segments,
        tables: table_sizes,
        bundle: BundleInfo { path: opts.out.clone(), bytes: bytes.len() as u64, build_id: header.build_id_hex(), created_at: header.created_at },
        profiles: opts.profiles.clone(),
        customers: customers_report,
        events,
        predict,
        timings,
    })
}

/// Seconds per step, for the summary.
struct Laps {
    last: Instant,
    timings: Vec<(&'static str, f64)>,
}

impl Laps {
    fn lap(&mut self, name: &'static str) {
        self.timings.push((name, self.last.elapsed().as_secs_f64()));
        self.last = Instant::now();
    }
}

/// What the tables are scored from, however it was counted.
struct Counted {
    products: Vec<Product>,
    categories: Vec<String>,
    /// The catalog's `created_at` per product (empty: none), for `new_arrivals`.
    created_at: Vec<Option<i64>>,
    aggregates: Aggregates,
    ingest: Option<IngestReport>,
}

/// Reads and cleans the order lines, counts the aggregates, and keeps only those (the lines
/// are the build's largest memory: 10M of them are let go before RFM and the tables).
fn from_lines(opts: &BuildOptions, loaded: &LoadedConfig, progress: &Progress, laps: &mut Laps) -> Result<Counted> {
    let config = &loaded.config;
    let orders_path = match (&opts.orders, &config.orders.path) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => loaded.resolve(p),
        (None, None) => return Err(Error::Invalid(format!("no orders file: pass --orders CSV or set orders.path in {}", opts.config.display()))),
    };
    let catalog_path = opts.catalog.clone().or_else(|| config.catalog.path.as_deref().map(|p| loaded.resolve(p)));
    let size = std::fs::metadata(&orders_path).map_err(Error::io(&orders_path))?.len();
    let bar = progress.bytes_of("reading order lines", size);
    let (ds, report) = ingest::ingest(config, &orders_path, catalog_path.as_deref(), &bar)?;
    laps.lap("ingest");
    bar.finish_and_clear();
    if ds.lines.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no sales left after cleaning ({} rows read, {} bad): check the column mapping and [cleaning]",
            orders_path.display(),
            report.rows,
            report.bad_rows
        )));
    }
    let bar = progress.step("counting", "order lines", ds.lines.len() as u64);
    let aggregates = Aggregates::from_dataset(&ds, &config.recs);
    let Dataset { products, categories, created_at, .. } = ds;
    laps.lap("count");
    bar.finish_and_clear();
    Ok(Counted { products, categories, created_at, aggregates, ingest: Some(report) })
}

/// Reads `DIR/products.csv` and the aggregate files of `DIR`.
fn from_aggregates(dir: &Path, opts: &BuildOptions, loaded: &LoadedConfig, progress: &Progress) -> Result<Counted> {
    if let Some(flag) = [(opts.orders.is_some(), "--orders"), (opts.catalog.is_some(), "--catalog"), (opts.write_aggregates.is_some(), "--write-aggregates")]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    {
        return Err(Error::Invalid(format!(
            "{flag} does not go with --aggregates: the catalog is {}/products.csv, and the counts are the directory's",
            dir.display()
        )));
    }
    let bar = progress.spinner("reading aggregates");
    let products_path = ["products.csv", "products.csv.gz"].iter().map(|f| dir.join(f)).find(|p| p.exists()).unwrap_or_else(|| dir.join("products.csv"));
    let (products, categories) = aggregates::read_products(&products_path, &loaded.config.catalog)?;
    let aggregates = aggregates::read_dir(dir, &products, &categories)?;
    bar.finish_and_clear();
    // products.csv (sql/SCHEMA.md) has no `created_at`: no new arrivals from aggregates yet.
    Ok(Counted { products, categories, created_at: Vec::new(), aggregates, ingest: None })
}

/// The public catalog: the products, in the same (SKU) order, prices to the cent.
pub(crate) fn catalog(products: Vec<Product>, categories: Vec<String>) -> Catalog {
    let products = products.into_iter().map(|p| Product { price: (p.price * 100.0).round() / 100.0, ..p }).collect();
    Catalog::new(products, categories)
}

fn counts(t: &Totals, products: &[Product], categories: &[String]) -> DatasetCounts {
    DatasetCounts {
        orders: t.orders,
        lines: t.lines,
        products: products.len() as u64,
        categories: categories.len() as u64,
        customers: t.customers,
        countries: t.countries,
        guest_orders: t.guest_orders,
        first_day: ingest::dates::day_string(t.first_time),
        last_day: ingest::dates::day_string(t.last_time),
    }
}

/// Random, so two builds from the same data are still told apart (caches, ETags).
fn build_id() -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| Error::Invalid(format!("no randomness for the build id: {e}")))?;
    Ok(id)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Writes next to the target and renames, so a server never sees half a bundle.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}
