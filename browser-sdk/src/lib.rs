//! Vitrine browser SDK.
