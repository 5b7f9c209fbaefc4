//! Outgoing email through the SMTP relay the operator configures (`--smtp-url`), for what only
//! email can do: prove a person reads their address, bring them back after a forgotten password,
//! invite a password admin (issue 13).
//!
//! Without a relay the [`Outbox`] is off: those features say so and refuse, everything else works
//! (the seed flow — sign up, create a key, paste it into Entra — never waits for an email).
//!
//! Why a queue in memory, not a table: every letter carries a single-use secret, which is never
//! stored in clear (`email_links` keeps its hash). Requests only queue ([`Outbox::post`]); one
//! task per instance sends, retrying a relay that fails for a moment, so a slow relay delays
//! no request and an answer never takes longer because an email was sent (the forgot-password
//! answer must not tell by its timing whether the address has an account). A crash loses at most
//! the letters still queued; each of them can be asked for again (resend, forgot password,
//! re-invite), and none of them is the only record of anything.
//!
//! Abuse: open sign-up lets anyone make the server write to any address, so each recipient gets at
//! most [`MAX_LETTERS_PER_RECIPIENT`] letters per throttle window (`throttle`, shared by every
//! instance), and the queue is bounded ([`QUEUE`]): when the relay cannot keep up, new letters are
//! refused with a "try again shortly", never piled up in memory.

use std::{sync::Arc, time::Duration};

use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::AsyncSmtpTransportBuilder,
};
use sea_orm::ConnectionTrait;
use tokio::sync::mpsc;

use crate::{DomainError, DomainResult, entities::email_link::Purpose, text::sha256_hex, throttle};

/// Letters waiting for the relay, per instance.
pub const QUEUE: usize = 1_000;
/// Letters one address may be sent per throttle window.
pub const MAX_LETTERS_PER_RECIPIENT: i32 = 5;
/// How long one conversation with the relay may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Waits before the second and third attempt at a letter the relay refused for the moment.
const RETRY_AFTER: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(15)];
/// How long shutting down waits for queued letters.
const FINISH_GRACE: Duration = Duration::from_secs(20);

/// Why the mail settings cannot work.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error(
        "--smtp-url is not an SMTP URL ({0}); use smtp://host:587?tls=required, \
         smtps://user:password@host:465 or smtp://127.0.0.1:25 for a local relay"
    )]
    Url(String),
    #[error("--smtp-from {0:?} is not an address, e.g. \"Scimpad <no-reply@example.com>\"")]
    From(String),
}

/// A relay URL and a sender address, checked.
#[derive(Clone)]
pub struct MailSettings {
    relay: AsyncSmtpTransportBuilder,
    from: Mailbox,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry the relay's password.
        f.debug_struct("MailSettings").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl MailSettings {
    /// Checks the relay URL (`smtp://`, `smtps://`, with `?tls=required|opportunistic`, user and
    /// password in the URL) and the sender address.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, MailSetupError> {
        let relay = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailSetupError::Url(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT));
        let from: Mailbox = from.parse().map_err(|_| MailSetupError::From(from.to_owned()))?;
        Ok(Self { relay, from })
    }

    /// The sender address.
    pub fn from(&self) -> String {
        self.from.to_string()
    }
}

/// One email: to whom, what it is about, and its plain-text body.
#[derive(Clone, Debug)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where requests post letters. Cheap to clone; off when no relay is configured.
#[derive(Clone, Debug)]
pub struct Outbox {
    queue: Option<Arc<Queue>>,
    /// The server's public URL, which the links in letters open.
    public_url: Arc<str>,
}

#[derive(Debug)]
struct Queue {
    tx: mpsc::Sender<Message>,
    from: Mailbox,
}

/// The sending task; [`MailWorker::finish`] after the server stops sends what is still queued.
#[derive(Debug)]
pub struct MailWorker {
    task: tokio::task::JoinHandle<()>,
}

impl Outbox {
    /// An outbox with no relay: every email feature is off.
    pub fn off(public_url: &str) -> Self {
        Self { queue: None, public_url: public_url.into() }
    }

    /// Starts the sending task for the relay `settings` name; links in letters open pages of
    /// `public_url`. Nothing is sent until a letter is posted. Call it on the runtime.
    pub fn start(settings: &MailSettings, public_url: &str) -> (Self, MailWorker) {
        let transport = settings.relay.clone().build();
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(send_loop(transport, rx));
        let queue = Queue { tx, from: settings.from.clone() };
        (Self { queue: Some(Arc::new(queue)), public_url: public_url.into() }, MailWorker { task })
    }

    /// The URL of the page that does `purpose` with `token`.
    pub fn link(&self, purpose: Purpose, token: &str) -> String {
        crate::email_links::url(&self.public_url, purpose, token)
    }

    /// Whether email can be sent at all.
    pub fn is_on(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues `letter`. Refused: with no relay, `Conflict` naming what is missing; beyond the
    /// recipient's allowance or with the queue full, `Throttled`; an address the relay could not
    /// take, `Invalid`.
    pub async fn post(&self, db: &impl ConnectionTrait, letter: Letter) -> DomainResult<()> {
        let Some(queue) = &self.queue else { return Err(off()) };
        let to: Address = letter.to.trim().parse().map_err(|_| {
            DomainError::invalid("email", "Email cannot be sent to this address; check it for typos.")
        })?;
        let message = Message::builder()
            .from(queue.from.clone())
            .to(Mailbox::new(None, to))
            .subject(letter.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(letter.body)
            .map_err(|e| DomainError::Internal(format!("building an email: {e}")))?;
        let recipient = format!("mail-to:{}", sha256_hex(&letter.to.trim().to_lowercase()));
        throttle::reserve(db, &recipient, MAX_LETTERS_PER_RECIPIENT).await?;
        queue.tx.try_send(message).map_err(|_| {
            tracing::warn!("email queue full: the SMTP relay is not keeping up");
            DomainError::Throttled { retry_after_secs: 60 }
        })
    }
}

/// The refusal of an email feature on a server without a relay.
pub fn off() -> DomainError {
    DomainError::Conflict(
        "This server sends no email (no SMTP relay is configured with --smtp-url), so this is off. \
         The server's operator can reset a password with `scimpad user set-password`."
            .into(),
    )
}

impl MailWorker {
    /// Waits (a bounded time) for the letters still queued once every [`Outbox`] is dropped.
    pub async fn finish(self) {
        if tokio::time::timeout(FINISH_GRACE, self.task).await.is_err() {
            tracing::warn!("shutting down with emails still unsent");
        }
    }
}

async fn send_loop(transport: AsyncSmtpTransport<Tokio1Executor>, mut rx: mpsc::Receiver<Message>) {
    while let Some(message) = rx.recv().await {
        send(&transport, message).await;
    }
}

/// Sends `message`, trying again after a temporary failure; the failure is logged with the
/// recipient's domain only (the body holds a secret link, the address is personal).
async fn send(transport: &AsyncSmtpTransport<Tokio1Executor>, message: Message) {
    let domain = message.envelope().to().first().map(|to| to.domain().to_owned()).unwrap_or_default();
    let mut waits = RETRY_AFTER.iter();
    loop {
        match transport.send(message.clone()).await {
            Ok(_) => return,
            Err(e) => match waits.next() {
                Some(wait) if !e.is_permanent() => {
                    tracing::info!(error = %e, to_domain = %domain, "SMTP relay failed; trying again");
                    tokio::time::sleep(*wait).await;
                }
                _ => {
                    tracing::error!(error = %e, to_domain = %domain, "an email could not be sent");
                    return;
                }
            },
        }
    }
}
