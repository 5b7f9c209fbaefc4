//! The console's error type: what a server function can fail with, carried to the browser as
//! JSON so forms can show a message next to the right field.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// A console error, safe to show to the person using the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field is wrong; `field` is the input's name.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The change conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// Wrong email or password (never says which).
    #[error("Wrong email or password.")]
    InvalidCredentials,
    /// Too many attempts (sign-ins, reset requests, emails to one address).
    #[error("Too many attempts. Try again in {minutes} minute(s).")]
    Throttled { minutes: i64 },
    /// No signed-in session.
    #[error("Your session has ended. Please sign in again.")]
    Unauthorized,
    /// Signed in, but not allowed.
    #[error("You do not have access to this.")]
    Forbidden,
    /// Nothing there.
    #[error("Not found.")]
    NotFound,
    /// The server failed; the details are in its log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request itself failed (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for input `field`, if this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}
