//! GrowthBook hashing and bucketing (placeholder until the conditions work lands).
