//! Number formatting for the human-readable output.

/// `25900` -> `25,900`.
pub fn n(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `47236246` -> `47.2 MB`.
pub fn bytes(v: u64) -> String {
    match v {
        0..1_000 => format!("{v} B"),
        1_000..1_000_000 => format!("{:.1} kB", v as f64 / 1e3),
        _ => format!("{:.1} MB", v as f64 / 1e6),
    }
}

/// `x` as a percentage of `total`, one decimal.
pub fn pct(x: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.1}%", 100.0 * x as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::n(0), "0");
        assert_eq!(super::n(999), "999");
        assert_eq!(super::n(25_900), "25,900");
        assert_eq!(super::n(1_234_567), "1,234,567");
        assert_eq!(super::bytes(47_236_246), "47.2 MB");
    }
}
