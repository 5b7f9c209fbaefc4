//! Pieces shared by several pages.

pub mod copy;
pub mod dialog;
pub mod export;
pub mod filter;
pub mod form;
pub mod layout;
pub mod pager;
pub mod table;
pub mod time;
