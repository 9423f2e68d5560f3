//! The embedded API client, written as a model merchant integration. PLACEHOLDER (issue 2).
