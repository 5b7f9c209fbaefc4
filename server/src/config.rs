//! Server configuration: command-line flags, each with a `SCIMPAD_*` environment fallback,
//! validated once at start-up so a bad value stops the server with a clear message instead of
//! failing later. Secrets (the database password) are never printed.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, ValueEnum};
use domain::{
    mail::{MailSettings, MailSetupError},
    sso::{
        domains::{DomainVerifier, VerifierSetupError},
        secret_box::{SecretBox, SecretBoxError},
    },
};
use url::Url;

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// How long one DNS query of a domain verification may take (one retry follows a timeout).
pub const DNS_TIMEOUT: Duration = Duration::from_secs(3);

/// How the server is configured.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` (embedded, default) or `postgres://user:pw@host/db`.
    #[arg(long, env = "SCIMPAD_DATABASE_URL", default_value = domain::db::DEFAULT_URL, hide_env_values = true)]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(long, env = "SCIMPAD_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// The URL people and Entra ID use to reach this server (scheme, host, port; no path). The
    /// SCIM Tenant URL is this plus `/scim/v2`. Defaults to `http://<bind>`.
    #[arg(long, env = "SCIMPAD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Mark the session cookie `Secure` (sent over HTTPS only). Turn off only for plain-http
    /// local runs.
    #[arg(long, env = "SCIMPAD_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Log filter, e.g. `info` or `server=debug,tower_http=info`.
    #[arg(long, env = "SCIMPAD_LOG", default_value = "info")]
    pub log: String,

    /// How log lines are written: `text` for people, `json` for machines (one object per line,
    /// with the request's id and, on SCIM requests, its organisation and operation).
    #[arg(long, env = "SCIMPAD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Days the provisioning log keeps its events.
    #[arg(long, env = "SCIMPAD_LOG_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub log_retention_days: u32,

    /// Seconds between the stop signal and the graceful stop, while `/readyz` already answers
    /// 503 and requests are still served: at least the load balancer's readiness interval times
    /// its failure threshold, so it stops sending traffic before connections are refused.
    #[arg(long, env = "SCIMPAD_DRAIN_SECONDS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=600))]
    pub drain_seconds: u32,

    /// The key (32 bytes, base64) that seals stored SSO client secrets. Every instance on one
    /// database needs the same key. Without it, `--secret-key-file` is used.
    #[arg(long, env = "SCIMPAD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// File holding the secret key; created with a random key on first start when missing (the
    /// zero-setup default for one embedded server).
    #[arg(long, env = "SCIMPAD_SECRET_KEY_FILE", default_value = "data/secret.key")]
    pub secret_key_file: String,

    /// Hosts an OIDC issuer may be on (comma separated): the server fetches the issuer's
    /// discovery document and keys, so this is all it will reach.
    #[arg(
        long,
        env = "SCIMPAD_OIDC_ISSUER_HOSTS",
        default_value = "login.microsoftonline.com",
        value_delimiter = ','
    )]
    pub oidc_issuer_hosts: Vec<String>,

    /// SCIM requests per second each organisation may sustain (a token bucket per organisation,
    /// per instance); beyond it requests get 429 with `Retry-After`. 0 turns the limit off.
    /// Entra needs 25/s per tenant and was seen peaking near 16/s; the default is twice the need.
    #[arg(long, env = "SCIMPAD_SCIM_RATE", default_value_t = 50)]
    pub scim_rate: u32,

    /// SCIM requests an organisation may send at once above `--scim-rate` (the bucket's size), so
    /// bursts of a provisioning cycle are never refused.
    #[arg(long, env = "SCIMPAD_SCIM_BURST", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub scim_burst: u32,

    /// Reverse proxies in front of the server (comma-separated IP addresses or CIDR networks).
    /// A request from one of them is taken to come from the right-most `X-Forwarded-For` entry
    /// that is not itself a trusted proxy; from any other peer the header is ignored. Empty (the
    /// default): the TCP peer is the client. Sign-in throttling counts per client address.
    #[arg(
        long,
        env = "SCIMPAD_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::client_addr::parse_trusted_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The DNS server (`ip:port`) that SSO domain verification asks for TXT records. Empty (the
    /// default): the system's nameservers from /etc/resolv.conf.
    #[arg(long, env = "SCIMPAD_DNS_RESOLVER")]
    pub dns_resolver: Option<String>,

    /// Hours between the re-checks of each verified SSO domain's TXT record; a domain stops
    /// routing after three re-checks in a row that find no record.
    #[arg(long, env = "SCIMPAD_DOMAIN_RECHECK_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub domain_recheck_hours: u32,

    /// The SMTP relay that sends email (address confirmation, password reset, admin invitations),
    /// e.g. `smtp://user:password@mail.example.com:587?tls=required` (STARTTLS),
    /// `smtps://user:password@mail.example.com:465` (TLS) or `smtp://127.0.0.1:25` (a local relay,
    /// plain). Empty (the default): no email; those features are off and say so.
    #[arg(long, env = "SCIMPAD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of that email. Default: `Scimpad <no-reply@HOST>`, HOST from `--public-url`.
    #[arg(long, env = "SCIMPAD_SMTP_FROM")]
    pub smtp_from: Option<String>,

    /// Serve Prometheus metrics at `http://<address>/metrics` on a listener of their own, e.g.
    /// `127.0.0.1:9090` (no authentication: keep it on a private network). Unset (the default):
    /// no metrics listener.
    #[arg(long, env = "SCIMPAD_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Serve Prometheus metrics at `/metrics` on the public listener too, to a scraper that sends
    /// `Authorization: Bearer <this token>` (at least 32 characters). Unset (the default): the
    /// public listener has no `/metrics`.
    #[arg(long, env = "SCIMPAD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Where the built console assets live (`pkg/scimpad.{js,wasm,css}`).
    #[arg(long, env = "SCIMPAD_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// A configuration value that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--public-url {0:?} is not a valid http(s) URL: {1}")]
    PublicUrl(String, String),
    #[error(
        "--public-url {0} is plain http on a non-loopback host while secure cookies are on: \
         browsers would never send the session cookie. Serve over https, or pass \
         --secure-cookies=false for a local plain-http run."
    )]
    InsecurePublicUrl(String),
    #[error("--log {0:?} is not a valid log filter: {1}")]
    Log(String, String),
    #[error("--site-root {0:?} has no pkg/scimpad.js: build the console first (cargo xtask build)")]
    SiteRoot(String),
    #[error("secret key: {0}")]
    SecretKey(#[from] SecretBoxError),
    #[error("--dns-resolver {0:?} is not an ip:port address, e.g. 127.0.0.1:53 or [::1]:53")]
    DnsResolver(String),
    #[error("DNS for domain verification: {0}; give --dns-resolver ip:port")]
    Dns(#[from] VerifierSetupError),
    #[error("email: {0}")]
    Mail(#[from] MailSetupError),
    #[error("--metrics-token must be at least {MIN_METRICS_TOKEN} characters long")]
    MetricsToken,
}

/// The shortest `--metrics-token` taken: a bearer secret must not be guessable.
pub const MIN_METRICS_TOKEN: usize = 32;

/// The configuration after validation.
#[derive(Clone, Debug)]
pub struct ValidConfig {
    pub raw: Config,
    /// The public origin, without a trailing slash, e.g. `https://scimpad.example.com`.
    pub public_url: String,
    /// Seals and opens stored SSO secrets.
    pub secrets: SecretBox,
    /// Looks up the TXT records that prove control of SSO email domains.
    pub domains: DomainVerifier,
    /// The SMTP relay and sender, when email is on.
    pub mail: Option<MailSettings>,
}

impl Config {
    /// Checks every value. `require_site` also checks the console assets exist (serving needs
    /// them; administrative commands do not).
    pub fn validate(self, require_site: bool) -> Result<ValidConfig, ConfigError> {
        let public = self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind));
        let url = Url::parse(&public).map_err(|e| ConfigError::PublicUrl(public.clone(), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::PublicUrl(public, "use http:// or https:// with a host".into()));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(ConfigError::PublicUrl(public, "give only scheme, host and port (no path)".into()));
        }
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() == "http" && self.secure_cookies && !loopback {
            return Err(ConfigError::InsecurePublicUrl(public));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| ConfigError::Log(self.log.clone(), e.to_string()))?;
        if require_site && !std::path::Path::new(&self.site_root).join("pkg/scimpad.js").is_file() {
            return Err(ConfigError::SiteRoot(self.site_root.clone()));
        }
        if self.metrics_token.as_ref().is_some_and(|t| t.trim().chars().count() < MIN_METRICS_TOKEN) {
            return Err(ConfigError::MetricsToken);
        }
        let secrets = match &self.secret_key {
            Some(key) => SecretBox::from_base64(key)?,
            None => SecretBox::load_or_create(std::path::Path::new(&self.secret_key_file))?,
        };
        let nameserver = match self.dns_resolver.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(addr) => Some(addr.parse().map_err(|_| ConfigError::DnsResolver(addr.to_owned()))?),
        };
        let domains = DomainVerifier::new(nameserver, DNS_TIMEOUT)?;
        let public_url = url.as_str().trim_end_matches('/').to_owned();
        let mail = match self.smtp_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(smtp) => {
                let host = url.host_str().unwrap_or_default();
                let from = self.smtp_from.clone().unwrap_or_else(|| format!("Scimpad <no-reply@{host}>"));
                Some(MailSettings::new(smtp, &from)?)
            }
        };
        Ok(ValidConfig { raw: self, public_url, secrets, domains, mail })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: Config,
    }

    /// Parses `args`, with a fixed secret key unless the test gives one (no key file written).
    fn parse(args: &[&str]) -> Config {
        let key = ["--secret-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="];
        let key: &[&str] = if args.contains(&"--secret-key") { &[] } else { &key };
        T::try_parse_from(std::iter::once("t").chain(key.iter().copied()).chain(args.iter().copied()))
            .unwrap()
            .c
    }

    #[test]
    fn defaults_are_local_sqlite_on_loopback() {
        let c = parse(&[]).validate(false).unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.raw.database_url, "sqlite://data/scimpad.db?mode=rwc");
        assert!(c.raw.secure_cookies);
    }

    #[test]
    fn rejects_bad_values_with_clear_messages() {
        let err = |args: &[&str]| parse(args).validate(false).unwrap_err().to_string();
        assert!(err(&["--public-url", "not a url"]).contains("not a valid http(s) URL"));
        assert!(err(&["--public-url", "ftp://x.example"]).contains("use http:// or https://"));
        assert!(err(&["--public-url", "https://x.example/app"]).contains("no path"));
        assert!(err(&["--public-url", "http://x.example"]).contains("--secure-cookies=false"));
        assert!(err(&["--log", "info,=="]).contains("not a valid log filter"));
        let site = parse(&["--site-root", "/nonexistent"]).validate(true).unwrap_err().to_string();
        assert!(site.contains("build the console first"));
        assert!(err(&["--secret-key", "c2hvcnQ="]).contains("32 bytes"));
        assert!(err(&["--dns-resolver", "localhost"]).contains("not an ip:port address"));
        assert!(err(&["--metrics-token", "short"]).contains("at least 32 characters"));
    }

    #[test]
    fn the_dns_resolver_is_an_address_or_the_systems() {
        let at = parse(&["--dns-resolver", "127.0.0.1:5353"]).validate(false).unwrap();
        assert_eq!(format!("{:?}", at.domains), r#"DomainVerifier { nameservers: "127.0.0.1:5353" }"#);
        assert_eq!(parse(&[]).validate(false).unwrap().raw.domain_recheck_hours, 24);
        // Empty, as an unset environment variable in a deployment file may be: the system's.
        let verifier = |args: &[&str]| {
            parse(args).validate(false).map(|c| format!("{:?}", c.domains)).map_err(|e| e.to_string())
        };
        assert_eq!(verifier(&["--dns-resolver", ""]), verifier(&[]));
    }

    #[test]
    fn plain_http_is_fine_with_secure_cookies_off() {
        let c = parse(&["--public-url", "http://scimpad.internal:8080/", "--secure-cookies=false"])
            .validate(false)
            .unwrap();
        assert_eq!(c.public_url, "http://scimpad.internal:8080");
    }

    #[test]
    fn email_is_off_without_a_relay_and_checked_with_one() {
        assert!(parse(&[]).validate(false).unwrap().mail.is_none());
        assert!(parse(&["--smtp-url", " "]).validate(false).unwrap().mail.is_none());
        let on = |args: &[&str]| parse(args).validate(false).map(|c| c.mail.unwrap().from());
        let public = ["--public-url", "https://scimpad.example.com"];
        let relay = ["--smtp-url", "smtp://user:s3cret@mail.example.com:587?tls=required"];
        assert_eq!(
            on(&[&public[..], &relay[..]].concat()).unwrap(),
            "Scimpad <no-reply@scimpad.example.com>"
        );
        let from = ["--smtp-from", "Acme IT <it@acme.example>"];
        assert_eq!(on(&[&public[..], &relay[..], &from[..]].concat()).unwrap(), "Acme IT <it@acme.example>");
        let err = |args: &[&str]| parse(args).validate(false).unwrap_err().to_string();
        let bad_url = err(&["--smtp-url", "http://mail.example.com"]);
        assert!(bad_url.contains("is not an SMTP URL") && !bad_url.contains("s3cret"), "{bad_url}");
        assert!(err(&[&relay[..], &["--smtp-from", "not an address"][..]].concat()).contains("--smtp-from"));
        // The relay's password never shows in the configuration's debug output.
        let c = parse(&[&public[..], &relay[..]].concat()).validate(false).unwrap();
        assert!(!format!("{:?}", c.mail).contains("s3cret"));
    }
}
