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
    /// Whether their sign-in address is confirmed.
    pub address: AddressStatus,
}

/// Where a person's sign-in address stands (`domain::email_confirmation::AddressState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressStatus {
    Confirmed,
    /// A link was sent and not followed yet: the console shows a banner.
    Unconfirmed,
    /// The server sends no email.
    MailOff,
    /// Signs in with SSO.
    NotApplicable,
}

/// An invitation to administer, as the Users page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub invited_by: String,
    pub sent_at: String,
    pub expires_at: String,
    pub expired: bool,
}

/// What an invitation link offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationOffer {
    pub organization: String,
    pub email: String,
    pub name: String,
}
