//! Bytes → `&`-separated `key=value` pairs → `ListQuery::from_query_pairs`. The first byte picks the
//! server's page limit. Must never panic; a parsed query must respect the limits it documents.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::ListQuery;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else { return };
    let max_count = match limit {
        0 => 0,
        255 => u64::MAX,
        n => u64::from(n) * 10,
    };
    let text = String::from_utf8_lossy(rest);
    let pairs: Vec<(&str, &str)> =
        text.split('&').map(|pair| pair.split_once('=').unwrap_or((pair, ""))).collect();
    let Ok(query) = ListQuery::from_query_pairs(pairs, max_count) else { return };
    assert!(query.start_index >= 1, "startIndex {} < 1", query.start_index);
    if let Some(count) = query.count {
        assert!(count <= max_count, "count {count} above the limit {max_count}");
    }
    if let Some(filter) = &query.filter {
        let printed = filter.to_string();
        if printed.len() > scim::filter::MAX_FILTER_LEN {
            return;
        }
        assert_eq!(
            scim::Filter::parse(&printed).ok().as_ref(),
            Some(filter),
            "filter printed as {printed:?}"
        );
    }
});
