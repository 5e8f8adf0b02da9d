//! The cart cookie (`vt_cart`), written by the store's pages when items are added:
//! `SKU:QTY` pairs joined by `,`, each SKU percent-encoded (`encodeURIComponent`), e.g.
//! `85123A:2,22423:1`. A quantity may be omitted (1). Unknown SKUs are dropped later, when
//! the catalog resolves them; malformed entries are skipped here.

use crate::query;

/// A cart longer than this is truncated: a decision never needs more lines.
pub const MAX_LINES: usize = 50;
const MAX_QUANTITY: u32 = 999;

pub fn parse(cookie: &str) -> Vec<(String, u32)> {
    let mut lines: Vec<(String, u32)> = Vec::new();
    for entry in cookie.split(',').filter(|e| !e.is_empty()) {
        let (sku, qty) = entry.rsplit_once(':').unwrap_or((entry, "1"));
        let sku = query::decode(sku.trim());
        let Ok(qty) = qty.trim().parse::<u32>() else { continue };
        if sku.is_empty() || sku.len() > 64 || qty == 0 {
            continue;
        }
        if let Some((_, q)) = lines.iter_mut().find(|(s, _)| *s == sku) {
            *q = (*q + qty).min(MAX_QUANTITY);
        } else if lines.len() < MAX_LINES {
            lines.push((sku, qty.min(MAX_QUANTITY)));
        } else {
            break;
        }
    }
    lines
}

pub fn format(lines: &[(String, u32)]) -> String {
    lines.iter().map(|(sku, q)| format!("{}:{q}", query::encode(sku))).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_merges_and_skips_junk() {
        let lines = parse("85123A:2,22423,bad:x,:3,85123A:1,A%2CB:4,zero:0");
        assert_eq!(lines, vec![("85123A".into(), 3), ("22423".into(), 1), ("A,B".into(), 4)]);
        assert_eq!(parse(&format(&lines)), lines);
    }

    #[test]
    fn bounded() {
        let many = (0..500).map(|i| format!("S{i}:99999")).collect::<Vec<_>>().join(",");
        let lines = parse(&many);
        assert_eq!(lines.len(), MAX_LINES);
        assert!(lines.iter().all(|(_, q)| *q == MAX_QUANTITY));
    }
}
