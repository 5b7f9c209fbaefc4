//! A DNS server for tests: authoritative for whatever TXT records a test gives it, on a random
//! UDP port on loopback, so SSO domain verification runs against real DNS traffic — the resolver,
//! its timeouts and its reading of NXDOMAIN and SERVFAIL — and never against the internet.
//! Records and behaviour change while it runs; it stops when dropped.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use hickory_resolver::proto::{
    op::{Edns, Message, Metadata, ResponseCode},
    rr::{RData, Record, RecordType, rdata::TXT},
};
use tokio::{net::UdpSocket, task::JoinHandle};

use crate::sso::domains::DomainVerifier;

/// How the server treats queries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers from its records: TXT values, or NXDOMAIN for a name it has none for.
    #[default]
    Answer,
    /// Answers every query SERVFAIL, as a broken upstream does.
    ServFail,
    /// Reads queries and never answers, as an unreachable server looks (the resolver times out).
    Silent,
}

#[derive(Debug, Default)]
struct Zone {
    /// TXT values by lower-case name without the trailing dot.
    txt: HashMap<String, Vec<String>>,
    behaviour: Behaviour,
}

/// A running test DNS server.
#[derive(Debug)]
pub struct TestDns {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: JoinHandle<()>,
}

impl TestDns {
    /// Starts a server on `127.0.0.1` and a free port.
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind the test DNS server");
        let addr = socket.local_addr().expect("test DNS server address");
        let zone = Arc::new(Mutex::new(Zone::default()));
        let task = tokio::spawn(serve(socket, zone.clone()));
        Self { addr, zone, task }
    }

    /// Where it listens (UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A verifier asking this server, with a short timeout so failure tests stay fast.
    pub fn verifier(&self) -> DomainVerifier {
        DomainVerifier::new(Some(self.addr), Duration::from_millis(300))
            .expect("verifier for the test DNS server")
    }

    fn zone(&self) -> std::sync::MutexGuard<'_, Zone> {
        self.zone.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes `value` as one more TXT record at `name`.
    pub fn add_txt(&self, name: &str, value: &str) {
        self.zone().txt.entry(key(name)).or_default().push(value.to_owned());
    }

    /// Removes every record at `name` (queries for it get NXDOMAIN).
    pub fn remove(&self, name: &str) {
        self.zone().txt.remove(&key(name));
    }

    /// Changes how queries are answered.
    pub fn behave(&self, behaviour: Behaviour) {
        self.zone().behaviour = behaviour;
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

async fn serve(socket: UdpSocket, zone: Arc<Mutex<Zone>>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf).await else { continue };
        let reply = {
            let zone = zone.lock().unwrap_or_else(PoisonError::into_inner);
            answer(&buf[..len], &zone)
        };
        if let Some(reply) = reply {
            // A lost reply looks like a timeout to the resolver, which is what it would be.
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

/// The reply to one query packet, or `None` to stay silent (a packet that is no query, or the
/// silent behaviour).
fn answer(packet: &[u8], zone: &Zone) -> Option<Vec<u8>> {
    let request = Message::from_vec(packet).ok()?;
    if zone.behaviour == Behaviour::Silent {
        return None;
    }
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata = Metadata::response_from_request(&request.metadata);
    reply.metadata.authoritative = true;
    reply.edns = request.edns.as_ref().map(|_| Edns::new());
    reply.add_queries(request.queries.clone());
    if zone.behaviour == Behaviour::ServFail {
        reply.metadata.response_code = ResponseCode::ServFail;
        return reply.to_vec().ok();
    }
    for query in &request.queries {
        match zone.txt.get(&key(&query.name().to_ascii())) {
            None => reply.metadata.response_code = ResponseCode::NXDomain,
            Some(values) if query.query_type() == RecordType::TXT => {
                for value in values {
                    let txt = RData::TXT(TXT::new(vec![value.clone()]));
                    reply.add_answer(Record::from_rdata(query.name().clone(), 0, txt));
                }
            }
            // The name exists, with no record of the type asked for: NOERROR, no answers.
            Some(_) => {}
        }
    }
    reply.to_vec().ok()
}
