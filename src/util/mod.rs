//! Pure helpers every part of the crate may use, each a leaf: hashing, CSV writing, deep links,
//! URL pieces, HTML escaping, number formatting, calendar dates and the report table model.
//! Nothing here does I/O or knows a platform (that is [`crate::platform`]).

pub mod csv;
pub mod date;
pub mod deeplink;
pub mod format;
pub mod hash;
pub mod html;
pub mod table;
pub mod url;
