//! Offset pages read from the nearer end of their order.
//!
//! `LIMIT n OFFSET k` steps over `k` index entries before it returns a row, so reading page `p`
//! costs more the deeper `p` is: at a million users the console's last Users page stepped over
//! 999,950 entries, and a SCIM `startIndex` near the end of the list did the same. A page in the
//! second half of the order is a page near the start of the reversed order, so it is read that way
//! (every column's direction flipped, the offset counted from the end) and its rows are put back
//! in order. No page then steps over more than half the matches, and the last page costs what the
//! first does. This needs the number of matches (counted, or kept by the count triggers) and a
//! strict order: every order the callers use ends in the row's id.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoSimpleExpr, Iterable, Order, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

/// Which rows to read for a page, and in which direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Rows to step over, from the start of the order (or of the reversed order).
    pub skip: u64,
    /// Rows to read: the page size, or what is left at the end.
    pub count: u64,
    /// Read in the reversed order; [`Window::restore`] puts the rows back.
    pub reversed: bool,
}

/// Where page `page` (1-based; 0 reads as 1) of `page_size` rows starts among `total` matches, or
/// `None` when it starts past the last match (or past `u64::MAX`): then there is nothing to read.
pub fn page_offset(page: u64, page_size: u64, total: u64) -> Option<u64> {
    page.max(1).saturating_sub(1).checked_mul(page_size).filter(|offset| *offset < total)
}

impl Window {
    /// The window for page `page` (1-based, as [`page_offset`] reads it) of `page_size` rows among
    /// `total` matches; `None` when there is nothing to read.
    pub fn page(page: u64, page_size: u64, total: u64) -> Option<Self> {
        Self::of(page_offset(page, page_size, total)?, page_size, total)
    }

    /// The window for the `count` rows after the first `skip` of `total` matches, from whichever
    /// end is nearer; `None` when there is nothing to read.
    pub fn of(skip: u64, count: u64, total: u64) -> Option<Self> {
        if count == 0 || skip >= total {
            return None;
        }
        let count = count.min(total - skip);
        let from_end = total - skip - count;
        Some(if from_end < skip {
            Self { skip: from_end, count, reversed: true }
        } else {
            Self { skip, count, reversed: false }
        })
    }

    /// The direction to read a column the page wants sorted `wanted`.
    pub fn direction(&self, wanted: Order) -> Order {
        match (self.reversed, wanted) {
            (false, wanted) => wanted,
            (true, Order::Desc) => Order::Asc,
            (true, _) => Order::Desc,
        }
    }

    /// Rows read through this window, put in the order the page wants.
    pub fn restore<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.reversed {
            rows.reverse();
        }
        rows
    }
}

/// The rows of `select` that `window` covers, in the order `order` gives (columns with their
/// directions; the last must make the order strict).
///
/// One statement, in two steps: the window is walked for the rows' primary keys alone, and only the
/// page's rows are then read whole (`WHERE key IN (SELECT key … LIMIT … OFFSET …)`). Walking whole
/// rows read every skipped row from the table: on PostgreSQL, a random console page of a million
/// users took 160 ms that way, where a walk over an index that holds the key reads no table row.
pub(crate) async fn read<E, C>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: impl IntoIterator<Item = (C, Order)> + Clone,
    window: Window,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: IntoSimpleExpr,
{
    let sorted = |select: Select<E>| {
        order
            .clone()
            .into_iter()
            .fold(select, |s, (column, wanted)| s.order_by(column, window.direction(wanted)))
    };
    let key = E::PrimaryKey::iter().next().map(|key| key.into_column());
    let Some(key) = key else { return Err(DbErr::Custom("a paged entity has a primary key".into())) };
    let keys = sorted(select).select_only().column(key).offset(window.skip).limit(window.count).into_query();
    let rows = sorted(E::find().filter(key.in_subquery(keys))).all(db).await?;
    Ok(window.restore(rows))
}

#[cfg(test)]
mod tests {
    use sea_orm::Order;

    use super::{Window, page_offset};

    #[test]
    fn offsets_of_pages_that_exist() {
        assert_eq!(page_offset(1, 50, 120), Some(0));
        assert_eq!(page_offset(0, 50, 120), Some(0), "page 0 reads as page 1");
        assert_eq!(page_offset(2, 50, 120), Some(50));
        assert_eq!(page_offset(3, 50, 120), Some(100), "the last, partial page");
    }

    #[test]
    fn pages_past_the_end_read_nothing_and_never_overflow() {
        assert_eq!(page_offset(4, 50, 120), None);
        assert_eq!(page_offset(3, 50, 100), None);
        assert_eq!(page_offset(1, 50, 0), None, "no matches: no row query");
        assert_eq!(page_offset(u64::MAX, 50, 120), None);
        assert_eq!(page_offset(u64::MAX, 50, u64::MAX), None, "(page - 1) × 50 overflows");
        assert_eq!(page_offset(u64::MAX / 50 + 1, 50, u64::MAX), Some(u64::MAX / 50 * 50));
        assert_eq!(Window::page(4, 50, 120), None);
        assert_eq!(Window::page(u64::MAX, 50, u64::MAX), None);
    }

    #[test]
    fn windows_of_console_pages() {
        assert_eq!(Window::page(0, 50, 120), Some(Window { skip: 0, count: 50, reversed: false }));
        // Rows 50..100 of 120: 20 rows after them, fewer than the 50 before.
        assert_eq!(Window::page(2, 50, 120), Some(Window { skip: 20, count: 50, reversed: true }));
        assert_eq!(Window::page(3, 50, 120), Some(Window { skip: 0, count: 20, reversed: true }));
    }

    #[test]
    fn pages_in_the_first_half_read_forward() {
        assert_eq!(Window::of(0, 50, 1_000), Some(Window { skip: 0, count: 50, reversed: false }));
        assert_eq!(Window::of(450, 50, 1_000), Some(Window { skip: 450, count: 50, reversed: false }));
    }

    #[test]
    fn pages_in_the_second_half_read_from_the_end() {
        // Rows 950..1000 are the first 50 of the reversed order.
        assert_eq!(Window::of(950, 50, 1_000), Some(Window { skip: 0, count: 50, reversed: true }));
        // Rows 600..650: the reversed order skips rows 650..1000.
        assert_eq!(Window::of(600, 50, 1_000), Some(Window { skip: 350, count: 50, reversed: true }));
        // The last, partial page: rows 100..120 of 120.
        assert_eq!(Window::of(100, 50, 120), Some(Window { skip: 0, count: 20, reversed: true }));
    }

    #[test]
    fn no_window_past_the_end_or_for_an_empty_page() {
        assert_eq!(Window::of(1_000, 50, 1_000), None);
        assert_eq!(Window::of(u64::MAX, 50, 1_000), None);
        assert_eq!(Window::of(0, 0, 1_000), None);
        assert_eq!(Window::of(0, 50, 0), None);
        assert_eq!(
            Window::of(u64::MAX - 1, u64::MAX, u64::MAX),
            Some(Window { skip: 0, count: 1, reversed: true })
        );
    }

    #[test]
    fn a_reversed_window_flips_each_direction_and_restores_the_order() {
        let forward = Window { skip: 0, count: 3, reversed: false };
        let back = Window { skip: 0, count: 3, reversed: true };
        assert_eq!(forward.direction(Order::Desc), Order::Desc);
        assert_eq!(back.direction(Order::Asc), Order::Desc);
        assert_eq!(back.direction(Order::Desc), Order::Asc);
        assert_eq!(back.restore(vec![3, 2, 1]), vec![1, 2, 3]);
        assert_eq!(forward.restore(vec![1, 2, 3]), vec![1, 2, 3]);
    }
}
