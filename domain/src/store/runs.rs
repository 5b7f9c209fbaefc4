//! Multi-row statements in a few fixed sizes.
//!
//! A statement's text grows with the rows it carries (a batch of log events, a PATCH's members, a
//! list of ids), and each distinct text is its own entry in a connection's statement cache. sqlx
//! keeps 100 per PostgreSQL connection, each with its SQL and every parameter's type, so batches of
//! every size from 1 to 500 filled the caches of all 16 pooled connections with statements of up
//! to 7,000 parameters: the server's RSS grew to 413 MiB while the benchmark grew a directory to a
//! million users on PostgreSQL (issue 14, item 5). Cut into runs whose lengths are powers of two,
//! a statement kind has at most nine texts, and a batch of `n` rows costs `n / 256` statements plus
//! one per bit set in `n % 256`.

/// The longest run: 256 rows of 14 columns stay far below both databases' parameter limits.
pub(crate) const MAX_RUN: usize = 256;

/// `items` cut into runs of [`MAX_RUN`] while that many are left, then into the powers of two
/// that make up the rest, largest first.
pub(crate) fn fixed_runs<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let length = if rest.len() >= MAX_RUN { MAX_RUN } else { 1 << rest.len().ilog2() };
        let (run, tail) = rest.split_at(length);
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn runs_cover_every_item_in_order_in_at_most_nine_lengths() {
        let mut lengths = BTreeSet::new();
        for n in 0..=2 * MAX_RUN + 3 {
            let items: Vec<usize> = (0..n).collect();
            let runs: Vec<&[usize]> = fixed_runs(&items).collect();
            assert_eq!(runs.concat(), items, "{n} items, in order, each once");
            assert!(runs.iter().all(|r| r.len().is_power_of_two() && r.len() <= MAX_RUN), "{n}: {runs:?}");
            assert!(runs.windows(2).all(|w| w[0].len() >= w[1].len()), "{n}: largest first");
            assert_eq!(runs.len(), n / MAX_RUN + (n % MAX_RUN).count_ones() as usize, "{n} items");
            lengths.extend(runs.iter().map(|r| r.len()));
        }
        assert_eq!(lengths.len(), 9, "{lengths:?}");
    }
}
