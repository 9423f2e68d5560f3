//! Request validation: raw JSON in, typed commands or a Problem out. PLACEHOLDER (simulator core).
