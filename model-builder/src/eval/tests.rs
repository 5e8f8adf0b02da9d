//! The whole eval on a tiny store whose figures are worked out by hand.

use super::holdout::Holdout;
use super::recommenders::Recommender;
use super::{evaluate, Protocol};
use crate::recs::testdata::{TinyData, DAY_SECS};
use crate::recs::RecsConfig;

/// Five products, five customers. Training (days 1–4): c0 {0, 1}, c1 {0, 2}, c2 {0}, c3 {3}.
/// Test (days 10–11): c0 {2}, c1 {0, 4}, and c4, who never ordered before, {1}.
fn store() -> Holdout {
    let data = TinyData::new(&["A", "B", "C", "D", "E"])
        .customers(5)
        .countries(&["UK"])
        .order(Some(0), 0, 1, &[0, 1])
        .order(Some(1), 0, 2, &[0, 2])
        .order(Some(2), 0, 3, &[0])
        .order(Some(3), 0, 4, &[3])
        .order(Some(0), 0, 10, &[2])
        .order(Some(1), 0, 10, &[0, 4])
        .order(Some(4), 0, 11, &[1]);
    Holdout::by_time(&data.ds, 10 * DAY_SECS, i64::MAX)
}

#[test]
fn time_split_keeps_customers_seen_on_both_sides() {
    let h = store();
    assert_eq!(h.train.orders.len(), 4);
    assert_eq!(h.train.customers, ["C0", "C1", "C2", "C3"], "c4 first ordered after the split");
    assert_eq!(h.users.iter().map(|u| (u.customer, u.bought.clone())).collect::<Vec<_>>(), [(0, vec![2]), (1, vec![0, 4])]);
    assert_eq!(h.cold_customers, 1);
    assert_eq!(h.users[1].relevant(true), [4], "c1 owned 0 already");
}

/// Popularity ranks 0 (3 buyers), then 1, 2, 3 (1 buyer each, by index), then 4.
/// all: c0 finds 2 at rank 3: NDCG 1/log2(4) = 0.5. c1 finds 0 at rank 1 and 4 at rank 5:
///      NDCG (1 + 1/log2 6) / (1 + 1/log2 3). P@10 = (0.1 + 0.2) / 2, R@20 = 1, HR = 1.
/// new: owned items leave the ranking. c0 ranks 2, 3, 4: 2 first, NDCG 1. c1 ranks 1, 3, 4:
///      4 third, NDCG 0.5. Mean 0.75; P@10 0.1.
#[test]
fn popularity_baseline_scores_as_worked_out_by_hand() {
    let h = store();
    let recommenders = vec![("popular".to_string(), Recommender::popular(&h.train))];
    let report = evaluate(&h, &RecsConfig::default(), &[], &recommenders, &[Protocol::All, Protocol::New]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;

    let all = &report.protocols[0].rows[0].metrics;
    let c1 = (1.0 + 1.0 / 6f64.log2()) / (1.0 + 1.0 / 3f64.log2());
    assert_eq!(all.users, 2);
    assert!(close(all.ndcg_at_10, (0.5 + c1) / 2.0), "{}", all.ndcg_at_10);
    assert!(close(all.hr_at_10, 1.0) && close(all.recall_at_20, 1.0));
    assert!(close(all.precision_at_10, 0.15));
    assert!(close(all.coverage, 1.0));

    let new = &report.protocols[1].rows[0].metrics;
    assert_eq!(new.users, 2);
    assert!(close(new.ndcg_at_10, 0.75), "{}", new.ndcg_at_10);
    assert!(close(new.precision_at_10, 0.1));
    assert_eq!((report.test_users, report.cold_customers), (2, 1));
}
