//! One module per console page.

mod account_pages;
mod api_keys;
mod audit;
mod dashboard;
mod email_links;
mod groups;
mod invitations;
mod log;
mod not_found;
mod profile;
mod sso;
mod users;

pub use account_pages::{SignInPage, SignUpPage};
pub use api_keys::ApiKeysPage;
pub use audit::AuditLogPage;
pub use dashboard::DashboardPage;
pub use email_links::{ConfirmEmailPage, ForgotPasswordPage, InvitationPage, ResetPasswordPage};
pub use groups::{GroupDetailPage, GroupsPage};
pub use log::ProvisioningLogPage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use sso::SsoSettingsPage;
pub use users::{UserDetailPage, UsersPage};
