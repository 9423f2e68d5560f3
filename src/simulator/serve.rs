//! Adapter 2: the standalone server on hyper. PLACEHOLDER (simulator edge).
