//! Whole listings for the console's CSV exports, read a chunk at a time so that an export of
//! 100,000 users neither sits in memory nor holds a connection or a transaction while a slow
//! client downloads it.
//!
//! Each chunk is one short read of its own ([`Reader::run`]: on a SQLite file a read-only reader
//! thread, so exports never queue behind the console's single writing connection) that starts
//! after the last row of the chunk before — keyset pagination on a unique, indexed ordering key,
//! never `OFFSET`, so chunk 100 costs what chunk 1 costs. Chunks are not one snapshot: a row
//! written while an export runs is in it if it sorts after the export's position, and a row whose
//! ordering key changes meanwhile may be missed or appear twice. Exports are admins' only,
//! scoped to the actor's organisation when they are made.

mod log;
mod users;

use std::sync::Arc;

pub use log::{ExportedEvent, LogExport};
pub use users::{ExportedUser, MAX_GROUP_NAMES, UserExport};

use crate::{
    DomainError, DomainResult,
    group_commit::BoxFuture,
    store::{ReadConn, Reader},
};

/// Rows per chunk: one read of this many rows (and, for users, one query for their groups).
pub const CHUNK_ROWS: u64 = 1000;

/// A listing read in keyset chunks, in a fixed order.
pub trait Keyset: Send + Sync + 'static {
    /// What one row of the listing holds.
    type Row: Send + 'static;
    /// Where a chunk ends: the ordering key of its last row.
    type Cursor: Send + 'static;

    /// Up to `limit` rows that come after `after` (from the first row when `None`), in order.
    fn chunk<'c>(
        &'c self,
        db: &'c ReadConn,
        after: Option<Self::Cursor>,
        limit: u64,
    ) -> BoxFuture<'c, DomainResult<Vec<Self::Row>>>;

    /// The position just after `row`.
    fn cursor(row: &Self::Row) -> Self::Cursor;
}

/// Where a [`Chunks`] reading stands.
enum Position<C> {
    Start,
    After(C),
    End,
}

/// The chunks of a [`Keyset`] listing, read one at a time on demand.
pub struct Chunks<K: Keyset> {
    listing: Arc<K>,
    reader: Reader,
    position: Position<K::Cursor>,
}

impl<K: Keyset> Chunks<K> {
    /// The chunks of `listing`, read through `reader`.
    pub fn new(reader: Reader, listing: K) -> Self {
        Self { listing: Arc::new(listing), reader, position: Position::Start }
    }

    /// The listing itself (for what it knows besides rows, such as names to show).
    pub fn listing(&self) -> &K {
        &self.listing
    }

    /// The next chunk of up to [`CHUNK_ROWS`] rows; `Ok(None)` once every row has been read.
    pub async fn next(&mut self) -> DomainResult<Option<Vec<K::Row>>> {
        let after = match std::mem::replace(&mut self.position, Position::End) {
            Position::Start => None,
            Position::After(cursor) => Some(cursor),
            Position::End => return Ok(None),
        };
        let listing = self.listing.clone();
        let rows = self
            .reader
            .run(move |db| Box::pin(async move { listing.chunk(db, after, CHUNK_ROWS).await }))
            .await
            .map_err(DomainError::Database)??;
        // A short chunk is the last one: no read is spent to learn that nothing follows.
        if rows.len() as u64 == CHUNK_ROWS
            && let Some(last) = rows.last()
        {
            self.position = Position::After(K::cursor(last));
        }
        Ok(if rows.is_empty() { None } else { Some(rows) })
    }
}
