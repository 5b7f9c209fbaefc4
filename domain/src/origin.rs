//! Where an action comes from: a request's client (its address and user agent), the server's
//! command line, or the server itself (a periodic job). Sign-in throttling counts failures per client address (`throttle`); the audit
//! log records the origin of every security-relevant event (`audit`), which is why an
//! [`crate::accounts::Actor`] carries the origin of the request it acts in.

use std::net::IpAddr;

/// The longest user agent kept; real ones are well under it, and a request's header is the
/// client's to choose, so it is cut rather than stored whole.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// The client's IP address as the server determined it (the TCP peer, or behind trusted proxies
/// the forwarded client), which sign-in throttling counts under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub addr: ClientAddr,
    /// The `User-Agent` header, cut to [`MAX_USER_AGENT_CHARS`]; `None` when absent or not text.
    pub user_agent: Option<String>,
}

impl Client {
    /// A client at `addr` that sent `user_agent`.
    pub fn new(addr: IpAddr, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| ua.trim().chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect())
            .filter(|ua: &String| !ua.is_empty());
        Self { addr: ClientAddr(addr), user_agent }
    }
}

/// Where an action comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A request: the console, a server function or an SSO sign-in.
    Request(Client),
    /// `scimpad org create` / `scimpad api-key create`, run by whoever operates the server.
    CommandLine,
    /// The server on its own account: the periodic re-check of verified SSO domains.
    Server,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cut_and_cleaned() {
        let addr = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(Client::new(addr, None).user_agent, None);
        assert_eq!(Client::new(addr, Some("  ")).user_agent, None);
        assert_eq!(Client::new(addr, Some("curl/8.5\u{7}")).user_agent.as_deref(), Some("curl/8.5"));
        let long = "é".repeat(MAX_USER_AGENT_CHARS + 10);
        assert_eq!(Client::new(addr, Some(&long)).user_agent.unwrap().chars().count(), MAX_USER_AGENT_CHARS);
    }
}
