//! Research-style interaction logs (user, item, timestamp, weight).
