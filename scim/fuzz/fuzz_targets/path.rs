//! Arbitrary UTF-8 → `PatchPath::parse`. A parsed path must print to text that parses back to the
//! same path (unless that text exceeds the input limit).

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::PatchPath;
use scim::filter::MAX_FILTER_LEN;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(path) = PatchPath::parse(text) else { return };
    let printed = path.to_string();
    // The canonical form may outgrow the input limit the path grammar shares with filters.
    if printed.len() > MAX_FILTER_LEN {
        return;
    }
    let reparsed = PatchPath::parse(&printed)
        .unwrap_or_else(|e| panic!("{text:?} parsed to {path:?}, printed as {printed:?}, which fails: {e}"));
    assert_eq!(reparsed, path, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed, "printing is not stable for {text:?}");
});
