//! A real SMTP server on an ephemeral loopback port that keeps what it is sent, so tests read the
//! email the app sends over the same protocol a relay speaks (RFC 5321: greeting, EHLO, MAIL,
//! RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT). Messages are parsed with `mail-parser`, as a
//! mail client would decode them (quoted-printable, base64, encoded words).

use std::{sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    sync::Mutex,
};

/// One received email.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The envelope recipients (RCPT TO), lower-case.
    pub to: Vec<String>,
    pub subject: String,
    /// The decoded plain-text body.
    pub body: String,
}

impl Mail {
    /// The first link in the body to `path` on the app (with its query), e.g. `/reset-password`.
    pub fn link(&self, path: &str) -> String {
        self.body
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(&format!("{path}?token=")))
            .unwrap_or_else(|| panic!("no {path} link in {:?}", self.body))
            .to_owned()
    }

    /// The token of that link.
    pub fn token(&self, path: &str) -> String {
        self.link(path).split_once("token=").unwrap().1.to_owned()
    }
}

/// The running sink.
#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Starts the sink on 127.0.0.1 (plain SMTP: `smtp://127.0.0.1:PORT`).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, kept.clone()));
            }
        });
        Self { url, mails }
    }

    /// Everything sent to `to` so far, oldest first.
    pub async fn to(&self, to: &str) -> Vec<Mail> {
        let to = to.to_lowercase();
        self.mails.lock().await.iter().filter(|m| m.to.contains(&to)).cloned().collect()
    }

    /// Waits (up to ten seconds) until `to` has been sent `n` emails; returns the `n`th.
    pub async fn nth_to(&self, to: &str, n: usize) -> Mail {
        for _ in 0..200 {
            let mails = self.to(to).await;
            if mails.len() >= n {
                return mails[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{to} was not sent {n} email(s): {:?}", self.to(to).await);
    }

    /// The latest email to `to`, waiting for the first when there is none yet.
    pub async fn latest_to(&self, to: &str) -> Mail {
        self.nth_to(to, 1).await;
        self.to(to).await.pop().unwrap()
    }
}

/// One SMTP session, as a relay would hold it (several messages per connection: lettre pools).
async fn converse(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let reply = async |w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str| {
        w.write_all(format!("{text}\r\n").as_bytes()).await.is_ok()
    };
    if !reply(&mut write, "220 sink.test ESMTP").await {
        return;
    }
    let mut to = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let ok = match verb.as_str() {
            "EHLO" => reply(&mut write, "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8").await,
            "HELO" | "NOOP" | "MAIL" => reply(&mut write, "250 OK").await,
            "RSET" => {
                to.clear();
                reply(&mut write, "250 OK").await
            }
            "RCPT" => {
                let address = line.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(a, _)| a);
                to.push(address.unwrap_or_default().to_lowercase());
                reply(&mut write, "250 OK").await
            }
            "DATA" => {
                if !reply(&mut write, "354 End data with <CR><LF>.<CR><LF>").await {
                    return;
                }
                let mut data = Vec::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(unstuffed.as_bytes());
                }
                let parsed = mail_parser::MessageParser::default().parse(&data).expect("a parsable message");
                mails.lock().await.push(Mail {
                    to: std::mem::take(&mut to),
                    subject: parsed.subject().unwrap_or_default().to_owned(),
                    body: parsed.body_text(0).unwrap_or_default().into_owned(),
                });
                reply(&mut write, "250 OK: queued").await
            }
            "QUIT" => {
                let _ = reply(&mut write, "221 Bye").await;
                return;
            }
            _ => reply(&mut write, "502 Command not implemented").await,
        };
        if !ok {
            return;
        }
    }
}
