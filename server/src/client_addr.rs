//! The client's address, which sign-in throttling counts under (`domain::throttle`) and the
//! audit log records (`domain::audit`) with the request's user agent.
//!
//! The TCP peer is the client, unless the peer is one of `--trusted-proxies`: then the client is
//! the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Each proxy appends
//! the address it received the request from, so that entry was written by our own proxies, while
//! anything to its left came from the client and proves nothing. From any other peer the header
//! is ignored: otherwise whoever sends a request would pick the address it is throttled under
//! (OWASP Authentication Cheat Sheet: throttling must not be bypassable by the attacker).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State, connect_info::Connected},
    http::HeaderMap,
    middleware::Next,
    response::Response,
    serve::IncomingStream,
};
use domain::origin::Client;
use ipnet::IpNet;
use tokio::net::TcpListener;

use crate::{request_target::NormalizingListener, state::AppState};

/// The TCP peer of a connection. axum records `ConnectInfo<SocketAddr>` only for its own
/// listeners, not through [`NormalizingListener`] (and the orphan rule forbids adding that), so
/// [`crate::serve`] records the peer as this type.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, NormalizingListener<TcpListener>>> for Peer {
    fn connect_info(stream: IncomingStream<'_, NormalizingListener<TcpListener>>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// Parses one `--trusted-proxies` entry: an IP address or a CIDR network.
pub fn parse_trusted_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR network (e.g. 10.0.0.0/8)"))
}

/// Middleware: puts the request's [`Client`] (address and user agent) in its extensions, for
/// authentication, sign-in and the audit log. A request served without a peer address (not
/// through [`crate::serve`]) gets none, and sign-in then refuses it.
pub async fn attach(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(Peer(peer))) = request.extensions().get::<ConnectInfo<Peer>>().copied() {
        let headers = request.headers();
        let addr = client_ip(peer.ip(), headers, &state.config.raw.trusted_proxies);
        let user_agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
        let client = Client::new(addr, user_agent);
        request.extensions_mut().insert(client);
    }
    next.run(request).await
}

/// The client behind `peer`: `peer` itself unless it is `trusted`, else the right-most
/// `X-Forwarded-For` entry (over all such headers, in order) that is not trusted. When the
/// entries run out, or one is not an address (a misconfigured proxy), the last trusted hop
/// read is the answer: it is the nearest address known to be true.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let values: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    for value in values.into_iter().rev() {
        let Ok(value) = value.to_str() else { return client };
        for entry in value.rsplit(',') {
            let Some(hop) = forwarded_ip(entry) else { return client };
            client = hop;
            if !is_trusted(&client) {
                return client;
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (as Azure Application
/// Gateway writes them: `203.0.113.7:51234`, `[2001:db8::7]:51234`).
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip())).ok()?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let trusted = [parse_trusted_proxy("10.0.0.0/8").unwrap()];
        let spoofed = forwarded(&["198.51.100.1"]);
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &trusted), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &[]), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("::ffff:203.0.113.9"), &spoofed, &[]), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("10.1.2.3"), &spoofed, &trusted), ip("198.51.100.1"));
    }

    #[test]
    fn behind_proxies_the_right_most_untrusted_entry_is_the_client() {
        let trusted = [parse_trusted_proxy("10.0.0.0/8").unwrap(), parse_trusted_proxy("192.0.2.5").unwrap()];
        let peer = ip("10.0.0.1");
        // The client wrote the left-most entry itself; our proxies appended the rest.
        let chain = forwarded(&["6.6.6.6, 203.0.113.7, 192.0.2.5", "10.9.9.9"]);
        assert_eq!(client_ip(peer, &chain, &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(peer, &forwarded(&["203.0.113.7:51234"]), &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(peer, &forwarded(&["[2001:db8::7]:443"]), &trusted), ip("2001:db8::7"));
        // Garbage or nothing: the nearest hop known to be true.
        assert_eq!(client_ip(peer, &forwarded(&["6.6.6.6, unknown, 192.0.2.5"]), &trusted), ip("192.0.2.5"));
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
        assert_eq!(client_ip(peer, &forwarded(&["10.2.2.2"]), &trusted), ip("10.2.2.2"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(parse_trusted_proxy(" 10.0.0.1 ").unwrap(), "10.0.0.1/32".parse::<IpNet>().unwrap());
        assert_eq!(parse_trusted_proxy("fd00::/8").unwrap(), "fd00::/8".parse::<IpNet>().unwrap());
        assert!(parse_trusted_proxy("10.0.0.0/33").unwrap_err().contains("CIDR"));
        assert!(parse_trusted_proxy("proxy.internal").is_err());
    }
}
