//! Records → the report's counts. The rules, in one place:
//!
//! - a `messageId` counts once (the first read; files are read in path order);
//! - an order counts once per `orderId` (a copy without one is its own order); its revenue is
//!   the `server` copy's where one has revenue (the browser's can be forged), else the first
//!   copy's; its unit, items and time (the earliest) from whichever copies have them;
//! - a unit's arm in an experiment is the arm of its first `Experiment Viewed` of it; a unit
//!   seen in more arms stays in its first and is counted as a multiple-exposure unit;
//! - an arm's metrics count what its units did from their first exposure on: exposures
//!   (`Product List Viewed`, `Promotion Viewed`) and clicks (`Product Clicked`, `Promotion
//!   Clicked`) of the experiment (its `experiment` field, or a placement the experiment was
//!   seen on; the global holdout: all of them), and orders.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use vitrine_engine::civil;
use vitrine_engine::measure::{self, Record};

use super::read::Loaded;
use super::stats::{self, Kind, Summary};
use super::{Arm, Attribution, Day, Experiment, Funnel, Input, Metric, Report, Srm};

/// An order is credited to a placement, an offer or a journey message the unit saw, clicked or
/// got at most this long before it.
pub const ATTRIBUTION_WINDOW_SECS: i64 = 7 * 86_400;

/// The metrics per arm, by their JSON key.
pub const CTR: &str = "ctr";
pub const CONVERSION: &str = "conversion";
pub const REVENUE_PER_UNIT: &str = "revenuePerUnit";

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Records from this unix second (inclusive) …
    pub from: Option<i64>,
    /// … to this one (exclusive).
    pub to: Option<i64>,
    /// Configured arm weights per experiment, for the sample-ratio check; an experiment not
    /// named here is expected to split equally, an arm not named gets weight 0.
    pub weights: HashMap<String, Vec<(String, f64)>>,
}

/// One order, merged from its copies.
#[derive(Debug, Default)]
struct Order {
    unit: Option<u32>,
    ts: i64,
    revenue: Option<f64>,
    from_server: bool,
    items: Vec<String>,
}

impl Order {
    fn revenue(&self) -> f64 {
        self.revenue.unwrap_or(0.0)
    }
}

/// A fixed-key hash (std's SipHash with its default keys): the same on every run.
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn is_exposure(event: &str) -> bool {
    event == measure::PRODUCT_LIST_VIEWED || event == measure::PROMOTION_VIEWED
}

fn is_click(event: &str) -> bool {
    event == measure::PRODUCT_CLICKED || event == measure::PROMOTION_CLICKED
}

/// Adds up what was read.
pub fn count(read: Loaded, options: &Options) -> Report {
    let Loaded { records: all, files, lines, bad_count, bad } = read;
    let mut input = Input { files, lines, bad_lines: bad_count, bad, ..Input::default() };

    // 64-bit hashes of the ids, not copies: a collision among 10⁷ ids has odds of about 3·10⁻⁶.
    let mut seen: HashSet<u64> = HashSet::with_capacity(all.len());
    let mut records = Vec::with_capacity(all.len());
    for r in all {
        if !seen.insert(id_hash(&r.message_id)) {
            input.duplicates += 1;
        } else if options.from.is_some_and(|f| r.ts < f) || options.to.is_some_and(|t| r.ts >= t) {
            input.out_of_range += 1;
        } else {
            records.push(r);
        }
    }
    drop(seen);
    // Stable: records of one second keep their file order.
    records.sort_by_key(|r| r.ts);
    input.records = records.len() as u64;
    input.first_day = records.first().map(|r| civil::day_string(r.ts));
    input.last_day = records.last().map(|r| civil::day_string(r.ts));

    // Units, and each unit's records (orders apart).
    let mut unit_ids: HashMap<&str, u32> = HashMap::new();
    let mut unit_records: Vec<Vec<&Record>> = Vec::new();
    let mut orders: Vec<Order> = Vec::new();
    let mut order_ids: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        let unit = (!r.unit.is_empty()).then(|| {
            let next = unit_ids.len() as u32;
            *unit_ids.entry(r.unit.as_str()).or_insert_with(|| {
                unit_records.push(Vec::new());
                next
            })
        });
        if r.event != measure::ORDER_COMPLETED {
            if let Some(u) = unit {
                unit_records[u as usize].push(r);
            }
            continue;
        }
        input.order_records += 1;
        let key = if r.order_id.is_empty() { r.message_id.as_str() } else { r.order_id.as_str() };
        let i = *order_ids.entry(key).or_insert_with(|| {
            orders.push(Order { ts: r.ts, ..Order::default() });
            orders.len() - 1
        });
        let o = &mut orders[i];
        o.unit = o.unit.or(unit);
        let server = r.source == measure::SOURCE_SERVER && r.revenue.is_some();
        if server && !o.from_server || o.revenue.is_none() {
            o.revenue = r.revenue;
            o.from_server = server;
        }
        if o.items.is_empty() {
            o.items.clone_from(&r.items);
        }
    }
    input.orders = orders.len() as u64;
    input.server_revenue_orders = orders.iter().filter(|o| o.from_server).count() as u64;
    // Each unit's orders, by time.
    let mut unit_orders: Vec<Vec<usize>> = vec![Vec::new(); unit_records.len()];
    for (i, o) in orders.iter().enumerate() {
        if let Some(u) = o.unit {
            unit_orders[u as usize].push(i);
        }
    }
    for list in &mut unit_orders {
        list.sort_by_key(|&i| orders[i].ts);
    }
    let units = Units { records: &unit_records, orders: &unit_orders, all_orders: &orders };

    Report {
        input,
        experiments: experiments(&units, options),
        placements: attribution(&units, false),
        offers: attribution(&units, true),
        journeys: journeys(&units),
        daily: daily(&records, &orders),
    }
}

struct Units<'a> {
    records: &'a [Vec<&'a Record>],
    orders: &'a [Vec<usize>],
    all_orders: &'a [Order],
}

impl Units<'_> {
    fn orders_of(&self, u: usize) -> impl Iterator<Item = &Order> {
        self.orders[u].iter().map(|&i| &self.all_orders[i])
    }
}

/// A unit's place in one experiment.
struct Assignment {
    arm: String,
    since: i64,
    multiple: bool,
}

fn experiments(units: &Units, options: &Options) -> Vec<Experiment> {
    let mut assigned: BTreeMap<&str, Vec<(usize, Assignment)>> = BTreeMap::new();
    let mut placements: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (u, records) in units.records.iter().enumerate() {
        let mut mine: BTreeMap<&str, Assignment> = BTreeMap::new();
        for r in records {
            if r.experiment.is_empty() {
                continue;
            }
            if !r.placement.is_empty() {
                placements.entry(&r.experiment).or_default().insert(&r.placement);
            }
            if r.event != measure::EXPERIMENT_VIEWED || r.arm.is_empty() {
                continue;
            }
            match mine.get_mut(r.experiment.as_str()) {
                None => {
                    mine.insert(&r.experiment, Assignment { arm: r.arm.clone(), since: r.ts, multiple: false });
                }
                Some(a) => a.multiple |= a.arm != r.arm,
            }
        }
        for (key, a) in mine {
            assigned.entry(key).or_default().push((u, a));
        }
    }
    let none = HashSet::new();
    assigned
        .into_iter()
        .map(|(key, list)| {
            let scope = if key == measure::HOLDOUT_EXPERIMENT { None } else { Some(placements.get(key).unwrap_or(&none)) };
            experiment(key, &list, scope, units, options)
        })
        .collect()
}

/// The control arm: `control`, else `holdout`, else the first by name.
pub fn control_arm<'a>(arms: &BTreeSet<&'a str>) -> &'a str {
    ["control", measure::HOLDOUT_ARM].into_iter().find_map(|c| arms.get(c).copied()).unwrap_or_else(|| arms.first().copied().unwrap_or_default())
}

fn experiment(key: &str, list: &[(usize, Assignment)], scope: Option<&HashSet<&str>>, units: &Units, options: &Options) -> Experiment {
    let names: BTreeSet<&str> = list.iter().map(|(_, a)| a.arm.as_str()).collect();
    let control = control_arm(&names);
    let order: Vec<&str> = std::iter::once(control).chain(names.iter().copied().filter(|a| *a != control)).collect();
    let mut arms: Vec<Arm> = order.iter().map(|a| Arm { arm: (*a).into(), ..Arm::default() }).collect();
    let mut sums: Vec<[Summary; 3]> = vec![[Summary::new(Kind::Ratio), Summary::new(Kind::Proportion), Summary::new(Kind::Mean)]; arms.len()];
    let in_scope = |r: &Record| match scope {
        None => true,
        Some(placements) => r.experiment == key || (r.experiment.is_empty() && placements.contains(r.placement.as_str())),
    };
    for (u, a) in list {
        let i = order.iter().position(|n| *n == a.arm).expect("every arm is listed");
        let arm = &mut arms[i];
        arm.units += 1;
        arm.multiple_exposure_units += u64::from(a.multiple);
        let (mut exposures, mut clicks) = (0u64, 0u64);
        for r in units.records[*u].iter().filter(|r| r.ts >= a.since && in_scope(r)) {
            exposures += u64::from(is_exposure(&r.event));
            clicks += u64::from(is_click(&r.event));
        }
        let (mut orders, mut revenue) = (0u64, 0.0);
        for o in units.orders_of(*u).filter(|o| o.ts >= a.since) {
            orders += 1;
            revenue += o.revenue();
        }
        arm.exposures += exposures;
        arm.clicks += clicks;
        arm.orders += orders;
        arm.revenue += revenue;
        let s = &mut sums[i];
        s[0].add(clicks as f64, exposures as f64);
        s[1].add(f64::from(u8::from(orders > 0)), 0.0);
        s[2].add(revenue, 0.0);
    }
    for (i, arm) in arms.iter_mut().enumerate() {
        for (m, name) in [CTR, CONVERSION, REVENUE_PER_UNIT].into_iter().enumerate() {
            let (summary, control) = (sums[i][m], sums[0][m]);
            let (lift, note) = if i == 0 {
                (None, None)
            } else {
                match stats::untestable(&control, &summary) {
                    Some(why) => (None, Some(why.to_string())),
                    None => (stats::lift(&control, &summary), None),
                }
            };
            arm.metrics.insert(name.into(), Metric { value: summary.mean(), summary, lift, note });
        }
    }
    let weights: Vec<f64> = match options.weights.get(key) {
        Some(w) => order.iter().map(|a| w.iter().find(|(n, _)| n == a).map_or(0.0, |(_, w)| *w)).collect(),
        None => vec![1.0; order.len()],
    };
    let counts: Vec<u64> = arms.iter().map(|a| a.units).collect();
    let p_value = stats::srm_p_value(&counts, &weights);
    let total_weight: f64 = weights.iter().sum();
    Experiment {
        key: key.into(),
        control: control.into(),
        units: list.len() as u64,
        multiple_exposure_units: list.iter().filter(|(_, a)| a.multiple).count() as u64,
        srm: Srm { weights: weights.iter().map(|w| w / total_weight).collect(), p_value, flagged: p_value < stats::SRM_THRESHOLD },
        arms,
    }
}

/// Per placement (`offers == false`) or per offer.
fn attribution(units: &Units, offers: bool) -> Vec<Attribution> {
    let mut out: BTreeMap<&str, Attribution> = BTreeMap::new();
    for (u, records) in units.records.iter().enumerate() {
        fn key_of(r: &Record, offers: bool) -> Option<&str> {
            let k = if offers { r.offer.as_str() } else { r.placement.as_str() };
            (!k.is_empty()).then_some(k)
        }
        // (when, where, items shown) and (when, where) of clicks.
        let mut shown: Vec<(i64, &str, &[String])> = Vec::new();
        let mut clicked: Vec<(i64, &str)> = Vec::new();
        for r in records {
            let Some(k) = key_of(r, offers) else { continue };
            let a = out.entry(k).or_insert_with(|| Attribution { key: k.into(), ..Attribution::default() });
            if is_exposure(&r.event) {
                a.exposures += 1;
                shown.push((r.ts, k, &r.items));
            } else if is_click(&r.event) {
                a.clicks += 1;
                clicked.push((r.ts, k));
            } else if r.event == measure::PROMOTION_CLOSED {
                a.closes += 1;
            }
        }
        for o in units.orders_of(u) {
            let window = |ts: i64| ts <= o.ts && o.ts - ts <= ATTRIBUTION_WINDOW_SECS;
            let by_item: BTreeSet<&str> =
                shown.iter().filter(|(ts, _, items)| window(*ts) && items.iter().any(|i| o.items.contains(i))).map(|(_, k, _)| *k).collect();
            let by_click: BTreeSet<&str> = clicked.iter().filter(|(ts, _)| window(*ts)).map(|(_, k)| *k).collect();
            for k in by_item.union(&by_click) {
                let a = out.get_mut(k).expect("seen above");
                a.orders += 1;
                a.revenue += o.revenue();
                a.orders_with_shown_item += u64::from(by_item.contains(k));
                a.orders_after_click += u64::from(by_click.contains(k));
            }
        }
    }
    out.into_values()
        .map(|mut a| {
            a.ctr = if a.exposures == 0 { 0.0 } else { a.clicks as f64 / a.exposures as f64 };
            a
        })
        .collect()
}

/// A unit's steps in one journey on one channel: sent, delivered, clicked; and when messages
/// were sent.
type Steps = ([bool; 3], Vec<i64>);

fn journeys(units: &Units) -> Vec<Funnel> {
    let mut entered: BTreeMap<&str, u64> = BTreeMap::new();
    let mut funnels: BTreeMap<(&str, &str), Funnel> = BTreeMap::new();
    for (u, records) in units.records.iter().enumerate() {
        let mut entered_here: BTreeSet<&str> = BTreeSet::new();
        // Per (journey, channel): sent, delivered, clicked; and when messages were sent.
        let mut mine: BTreeMap<(&str, &str), Steps> = BTreeMap::new();
        for r in records {
            let step = match r.event.as_str() {
                measure::JOURNEY_ENTERED => {
                    entered_here.insert(&r.journey);
                    continue;
                }
                measure::MESSAGE_SENT => 0,
                measure::MESSAGE_DELIVERED => 1,
                measure::MESSAGE_CLICKED => 2,
                _ => continue,
            };
            let entry = mine.entry((&r.journey, &r.channel)).or_default();
            entry.0[step] = true;
            if step == 0 {
                entry.1.push(r.ts);
            }
        }
        for j in entered_here {
            *entered.entry(j).or_default() += 1;
        }
        for (key, (steps, sent_at)) in mine {
            let f = funnels.entry(key).or_insert_with(|| Funnel { journey: key.0.into(), channel: key.1.into(), ..Funnel::default() });
            f.sent += u64::from(steps[0]);
            f.delivered += u64::from(steps[1]);
            f.clicked += u64::from(steps[2]);
            f.messages += sent_at.len() as u64;
            let after: Vec<&Order> = units.orders_of(u).filter(|o| sent_at.iter().any(|&t| t <= o.ts && o.ts - t <= ATTRIBUTION_WINDOW_SECS)).collect();
            f.ordered += u64::from(!after.is_empty());
            f.revenue += after.iter().map(|o| o.revenue()).sum::<f64>();
        }
    }
    let mut out: Vec<Funnel> = funnels
        .into_values()
        .map(|mut f| {
            f.entered = entered.get(f.journey.as_str()).copied().unwrap_or(0);
            f
        })
        .collect();
    // Journeys entered that sent nothing yet: a row with no channel.
    for (j, n) in entered {
        if !out.iter().any(|f| f.journey == j) {
            out.push(Funnel { journey: j.into(), entered: n, ..Funnel::default() });
        }
    }
    out.sort_by(|a, b| (&a.journey, &a.channel).cmp(&(&b.journey, &b.channel)));
    out
}

fn daily(records: &[Record], orders: &[Order]) -> Vec<Day> {
    let mut days: BTreeMap<i64, (Day, HashSet<&str>)> = BTreeMap::new();
    fn entry<'d, 'a>(days: &'d mut BTreeMap<i64, (Day, HashSet<&'a str>)>, ts: i64) -> &'d mut (Day, HashSet<&'a str>) {
        days.entry(ts.div_euclid(86_400)).or_insert_with(|| (Day { day: civil::day_string(ts), ..Day::default() }, HashSet::new()))
    }
    for r in records {
        let (d, units) = entry(&mut days, r.ts);
        if !r.unit.is_empty() {
            units.insert(&r.unit);
        }
        d.exposures += u64::from(is_exposure(&r.event));
        d.clicks += u64::from(is_click(&r.event));
    }
    for o in orders {
        let (d, _) = entry(&mut days, o.ts);
        d.orders += 1;
        d.revenue += o.revenue();
    }
    days.into_values()
        .map(|(mut d, units)| {
            d.units = units.len() as u64;
            d
        })
        .collect()
}
