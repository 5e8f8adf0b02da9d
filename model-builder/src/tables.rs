//! Sizes of the recommendation tables, for the build summary and `inspect`.

use serde::Serialize;
use vitrine_engine::bundle::{Keyed, Neighbors, RecTables};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableSizes {
    pub bought_together: NeighborSizes,
    pub similar: NeighborSizes,
    pub trending: usize,
    pub popular: usize,
    pub popular_by_country: KeyedSizes,
    pub popular_by_category: KeyedSizes,
    pub popular_by_segment: KeyedSizes,
    pub reorder_days: usize,
    /// From `build --events`.
    pub viewed_together: NeighborSizes,
    pub bought_after_viewing: NeighborSizes,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NeighborSizes {
    /// Products with at least one neighbour.
    pub products: usize,
    /// Neighbour entries in all.
    pub entries: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KeyedSizes {
    pub lists: usize,
    pub entries: usize,
}

impl TableSizes {
    pub fn of(t: &RecTables) -> Self {
        TableSizes {
            bought_together: neighbors(&t.bought_together),
            similar: neighbors(&t.similar),
            trending: t.trending.len(),
            popular: t.popular.len(),
            popular_by_country: keyed(&t.popular_by_country),
            popular_by_category: keyed(&t.popular_by_category),
            popular_by_segment: keyed(&t.popular_by_segment),
            reorder_days: t.reorder_days.len(),
            viewed_together: neighbors(&t.viewed_together),
            bought_after_viewing: neighbors(&t.bought_after_viewing),
        }
    }

    /// One line per table, for text output.
    pub fn lines(&self) -> Vec<String> {
        use crate::fmt::n;
        let nb = |name: &str, s: &NeighborSizes| format!("{name:<20} {:>9} entries for {} products", n(s.entries as u64), n(s.products as u64));
        let ky = |name: &str, s: &KeyedSizes| format!("{name:<20} {:>9} entries in {} lists", n(s.entries as u64), n(s.lists as u64));
        vec![
            nb("bought_together", &self.bought_together),
            nb("similar", &self.similar),
            format!("{:<20} {:>9} products", "trending", n(self.trending as u64)),
            format!("{:<20} {:>9} products", "popular", n(self.popular as u64)),
            ky("popular_by_country", &self.popular_by_country),
            ky("popular_by_category", &self.popular_by_category),
            ky("popular_by_segment", &self.popular_by_segment),
            format!("{:<20} {:>9} products", "reorder_days", n(self.reorder_days as u64)),
            nb("viewed_together", &self.viewed_together),
            nb("bought_after_viewing", &self.bought_after_viewing),
        ]
    }
}

fn neighbors(t: &Neighbors) -> NeighborSizes {
    let products = (0..t.products() as u32).filter(|&p| t.of(p).len() > 0).count();
    NeighborSizes { products, entries: t.len() }
}

fn keyed(t: &[Keyed]) -> KeyedSizes {
    KeyedSizes { lists: t.len(), entries: t.iter().map(|k| k.items.len()).sum() }
}
