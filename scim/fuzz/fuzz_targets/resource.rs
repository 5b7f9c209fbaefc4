//! Bytes → JSON → `prepare_resource` for User and Group. Must never panic, and preparation must be
//! idempotent: preparing a prepared resource gives it back unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::{ResourceKind, group_members, prepare_resource};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let Ok(prepared) = prepare_resource(&body, kind) else { continue };
        let again = prepare_resource(&prepared, kind)
            .unwrap_or_else(|e| panic!("{kind:?}: {body} prepared to {prepared}, which is refused: {e}"));
        assert_eq!(again, prepared, "{kind:?}: preparation of {body} is not idempotent");
        if kind == ResourceKind::Group {
            let _ = group_members(&prepared);
        }
    }
});
