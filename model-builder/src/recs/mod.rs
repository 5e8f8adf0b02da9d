//! Recommendation tables computed from the cleaned dataset (placeholder).
