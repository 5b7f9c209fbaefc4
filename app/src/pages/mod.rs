//! One module per console page.

mod account_pages;
mod dashboard;
mod not_found;
mod profile;
mod upcoming;

pub use account_pages::{SignInPage, SignUpPage};
pub use dashboard::DashboardPage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use upcoming::{ApiKeysPage, GroupsPage, ProvisioningLogPage, UsersPage};
