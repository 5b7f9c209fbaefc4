//! The two exports' columns. Users: the SCIM attributes an admin reconciles against Entra (names
//! as SCIM spells them), the console's role and source, and group names. The log: what the
//! provisioning log page shows of each request. Times are RFC 3339 in UTC, as the console sends
//! them.

use domain::{
    clock::to_rfc3339,
    export::{ExportedEvent, ExportedUser, LogExport, UserExport},
    sea_orm::ActiveEnum,
};

use super::stream::Sheet;

/// Between group names in a cell.
const GROUP_SEPARATOR: &str = "; ";

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// A person's groups in one cell: their names, and how many more when there are more than the
/// export names.
fn group_cell(user: &ExportedUser) -> String {
    let mut cell = user.groups.join(GROUP_SEPARATOR);
    if user.more_groups > 0 {
        cell.push_str(&format!("{GROUP_SEPARATOR}… and {} more", user.more_groups));
    }
    cell
}

impl Sheet for UserExport {
    const STEM: &'static str = "users";
    const HEADER: &'static [&'static str] = &[
        "id",
        "userName",
        "externalId",
        "displayName",
        "givenName",
        "familyName",
        "email",
        "active",
        "role",
        "source",
        "groups",
        "created",
        "lastModified",
    ];

    fn cells(&self, u: &ExportedUser) -> Vec<String> {
        vec![
            u.id.clone(),
            u.user_name.clone(),
            text(&u.external_id),
            text(&u.display_name),
            text(&u.given_name),
            text(&u.family_name),
            text(&u.email),
            u.active.to_string(),
            u.role.to_value(),
            u.source.to_value(),
            group_cell(u),
            to_rfc3339(u.created_at),
            to_rfc3339(u.updated_at),
        ]
    }
}

impl Sheet for LogExport {
    const STEM: &'static str = "provisioning-log";
    const HEADER: &'static [&'static str] = &[
        "time",
        "method",
        "path",
        "operation",
        "resourceType",
        "resourceId",
        "status",
        "scimType",
        "summary",
        "detail",
        "durationMs",
        "apiKey",
    ];

    fn cells(&self, row: &ExportedEvent) -> Vec<String> {
        let e = &row.event;
        vec![
            to_rfc3339(e.at),
            e.method.clone(),
            e.path.clone(),
            e.operation.clone(),
            text(&e.resource_type),
            text(&e.resource_id),
            e.status.to_string(),
            text(&e.scim_type),
            e.summary.clone(),
            text(&e.detail),
            e.duration_ms.to_string(),
            text(&row.key),
        ]
    }
}
