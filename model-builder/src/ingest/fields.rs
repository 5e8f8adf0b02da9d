//! Reading one field of a CSV row: text (UTF-8), whole numbers, prices. Errors are the
//! message part of `orders.csv:1043: field Quantity: "12x" is not a number`.

pub fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        format!("invalid UTF-8 at byte {} of the field (after {:?})", at + 1, String::from_utf8_lossy(&bytes[..at]))
    })
}

/// A link a page or message will show: parsed the WHATWG way (the `url` crate) against a
/// placeholder base, it must be http(s), absolute or relative. Empty is fine (no link).
pub fn link(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let base = url::Url::parse("https://base.invalid/").expect("a valid base");
    match base.join(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(format!("{s:?} is a {}: URL; links must be http(s) or relative", u.scheme())),
        Err(e) => Err(format!("{s:?} is not a URL ({e})")),
    }
}

/// An absolute http(s) URL, such as the store's own address.
pub fn absolute_link(s: &str) -> Result<(), String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err(format!("{s:?} is not an http(s) address")),
        Err(e) => Err(format!("{s:?} is not an absolute URL ({e})")),
    }
}

/// A whole number; `6.0` is accepted (spreadsheets write whole numbers so).
pub fn whole(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
        Ok(_) => Err(format!("{s:?} is not a whole number")),
        Err(_) if s.is_empty() => Err("empty, expected a number".into()),
        Err(_) => Err(format!("{s:?} is not a number")),
    }
}

/// A decimal number such as a price.
pub fn decimal(s: &str) -> Result<f64, String> {
    let s = s.trim();
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ if s.is_empty() => Err("empty, expected a number".into()),
        _ => Err(format!("{s:?} is not a number")),
    }
}

/// `true` for yes-like values, `false` for no-like; blank is in stock.
pub fn in_stock(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "y" | "1" | "in stock" | "instock" | "in_stock" => Ok(true),
        "false" | "no" | "n" | "0" | "out of stock" | "outofstock" | "out_of_stock" => Ok(false),
        other => match other.parse::<f64>() {
            // A stock level.
            Ok(n) => Ok(n > 0.0),
            Err(_) => Err(format!("{s:?} is not yes/no, true/false or a stock level")),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_http_or_relative_as_a_browser_parses_them() {
        for ok in ["", "/products/1", "https://shop.example/p", "//cdn.example/i.png", "p/1?x=<y>"] {
            assert_eq!(super::link(ok), Ok(()), "{ok:?}");
        }
        for bad in ["javascript:alert(1)", "java\tscript:alert(1)", "\x01javascript:alert(1)", "data:text/html,x", "vbscript:x"] {
            assert!(super::link(bad).unwrap_err().contains("links must be http(s) or relative"), "{bad:?}");
        }
        assert!(super::absolute_link("/shop").is_err() && super::absolute_link("https://shop.example").is_ok());
    }

    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(whole("12"), Ok(12));
        assert_eq!(whole("-3"), Ok(-3));
        assert_eq!(whole("6.0"), Ok(6));
        assert_eq!(whole("12x"), Err("\"12x\" is not a number".into()));
        assert_eq!(whole("2.5"), Err("\"2.5\" is not a whole number".into()));
        assert_eq!(decimal("2.55"), Ok(2.55));
        assert!(decimal("NaN").is_err());
        assert!(decimal("").unwrap_err().contains("empty"));
    }

    #[test]
    fn invalid_utf8_says_where() {
        let e = text(b"CAF\xff").unwrap_err();
        assert!(e.contains("byte 4"), "{e}");
    }

    #[test]
    fn stock_flags() {
        assert_eq!(in_stock("Yes"), Ok(true));
        assert_eq!(in_stock("0"), Ok(false));
        assert_eq!(in_stock("12"), Ok(true));
        assert!(in_stock("maybe").is_err());
    }
}
