//! The go-live checklist, kept at its old path for the crate's users: the
//! table and [`ChecklistId`] live in [`crate::domain::checklist`].

pub use crate::domain::checklist::{find, order, Area, ChecklistId, Item, ITEMS};
