//! Data sent from the server functions to the browser.

use serde::{Deserialize, Serialize};

/// The signed-in person, as the console shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub name: String,
    pub email: String,
    pub organization: String,
    pub is_admin: bool,
    /// Signs in with SSO; name and email are the identity provider's, and there is no password.
    pub managed_by_idp: bool,
}
