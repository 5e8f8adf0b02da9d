//! GrowthBook's condition language (placeholder until the conditions work lands).
