//! Adapter 1: the engine mounted on a wiremock `MockServer`. PLACEHOLDER (simulator edge).
