//! Direct DNS queries to one server over UDP or TCP, with a deadline and typed outcomes.
//!
//! The resolver wrapper in `dns.rs` hides which server answered and retries behind the caller's
//! back; here every query goes to exactly one address over exactly one transport, so a check can
//! say "ns2 at 192.0.2.53 times out over TCP" instead of "the lookup failed". Messages are built
//! and parsed with hickory-proto; only the socket handling is ours.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// Why no DNS message came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum QueryError {
    #[error("no answer within {ms} ms")]
    Timeout { ms: u64 },
    /// TCP reset, or ICMP port unreachable for UDP: the host is up but nothing serves DNS.
    #[error("connection refused (nothing listens on port {port})")]
    Refused { port: u16 },
    #[error("unreachable: {message}")]
    Unreachable { message: String },
    #[error("malformed answer: {message}")]
    Malformed { message: String },
}

/// One answer from one server.
#[derive(Debug, Clone)]
pub struct Response {
    pub message: Message,
    pub elapsed_ms: u64,
}

impl Response {
    pub fn rcode(&self) -> ResponseCode {
        self.message.response_code()
    }
    pub fn authoritative(&self) -> bool {
        self.message.authoritative()
    }
    /// The answer records of `rtype` (any owner: a CNAME chain ends at another name).
    pub fn records(&self, rtype: RecordType) -> Vec<&Record> {
        self.message
            .answers()
            .iter()
            .filter(|r| r.record_type() == rtype)
            .collect()
    }
    /// CNAME targets in the answer, followed from `name` in order.
    pub fn cname_chain(&self, name: &Name) -> Vec<Name> {
        let mut chain = Vec::new();
        let mut cur = name.clone();
        // Bounded by the answer size; a loop in a hostile answer stops at the first repeat.
        for _ in 0..self.message.answers().len() {
            let next = self.message.answers().iter().find_map(|r| match r.data() {
                RData::CNAME(c) if r.name() == &cur => Some(c.0.clone()),
                _ => None,
            });
            match next {
                Some(n) if !chain.contains(&n) && n != *name => {
                    chain.push(n.clone());
                    cur = n;
                }
                _ => break,
            }
        }
        chain
    }
}

/// Largest UDP answer we accept; EDNS advertises the same (the DNS flag day 2020 value).
const UDP_PAYLOAD: u16 = 1232;

fn query_id() -> u16 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u16
}

/// Header bits of a query beyond the name and type.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// RD: ask a resolver to recurse (false for authoritative servers).
    pub recursion: bool,
    /// CD: ask a validating resolver to skip DNSSEC validation, to tell a DNSSEC failure from
    /// a broken zone.
    pub checking_disabled: bool,
}

fn build(name: &Name, rtype: RecordType, flags: Flags, id: u16) -> Result<Vec<u8>, QueryError> {
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(flags.recursion)
        .set_checking_disabled(flags.checking_disabled)
        .add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    // DO: validating resolvers then say why validation failed (Extended DNS Errors).
    edns.set_dnssec_ok(true);
    msg.set_edns(edns);
    msg.to_vec().map_err(|e| QueryError::Malformed {
        message: format!("cannot encode the query: {e}"),
    })
}

fn io_error(e: &std::io::Error, port: u16) -> QueryError {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused | ConnectionReset => QueryError::Refused { port },
        TimedOut => QueryError::Timeout { ms: 0 },
        _ => QueryError::Unreachable {
            message: e.to_string(),
        },
    }
}

/// Sends one query to `server` over `transport` and waits at most `deadline` for the answer.
/// `recursion` sets RD: false for authoritative servers, true for resolvers.
pub async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    recursion: bool,
    transport: Transport,
    deadline: Duration,
) -> Result<Response, QueryError> {
    let flags = Flags {
        recursion,
        checking_disabled: false,
    };
    query_with(server, name, rtype, flags, transport, deadline).await
}

/// `query` with all header flags given.
pub async fn query_with(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    flags: Flags,
    transport: Transport,
    deadline: Duration,
) -> Result<Response, QueryError> {
    let start = Instant::now();
    let id = query_id();
    let bytes = build(name, rtype, flags, id)?;
    let exchange = async {
        match transport {
            Transport::Udp => udp(server, &bytes, id).await,
            Transport::Tcp => tcp(server, &bytes, id).await,
        }
    };
    let result = tokio::time::timeout(deadline, exchange).await;
    let elapsed_ms = start.elapsed().as_millis() as u64;
    match result {
        Err(_) => Err(QueryError::Timeout { ms: elapsed_ms }),
        Ok(Err(QueryError::Timeout { .. })) => Err(QueryError::Timeout { ms: elapsed_ms }),
        Ok(Err(e)) => Err(e),
        Ok(Ok(message)) => Ok(Response {
            message,
            elapsed_ms,
        }),
    }
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, QueryError> {
    let local: SocketAddr = match server.ip() {
        IpAddr::V4(_) => "0.0.0.0:0".parse().expect("literal"),
        IpAddr::V6(_) => "[::]:0".parse().expect("literal"),
    };
    let port = server.port();
    let sock = UdpSocket::bind(local)
        .await
        .map_err(|e| io_error(&e, port))?;
    // A connected socket only receives from the server and reports ICMP port unreachable as
    // ECONNREFUSED on the next receive.
    sock.connect(server).await.map_err(|e| io_error(&e, port))?;
    sock.send(bytes).await.map_err(|e| io_error(&e, port))?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).await.map_err(|e| io_error(&e, port))?;
        // Answers to other queries or garbage: keep waiting until the deadline, as resolvers do.
        match Message::from_vec(&buf[..n]) {
            Ok(m) if m.id() == id && m.message_type() == MessageType::Response => return Ok(m),
            _ => continue,
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, QueryError> {
    let port = server.port();
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| io_error(&e, port))?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    framed.extend_from_slice(bytes);
    stream
        .write_all(&framed)
        .await
        .map_err(|e| io_error(&e, port))?;
    loop {
        let mut len = [0u8; 2];
        stream
            .read_exact(&mut len)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => QueryError::Malformed {
                    message: "the server closed the TCP connection without answering".into(),
                },
                _ => io_error(&e, port),
            })?;
        // The length prefix caps the read at 64 KiB, the largest DNS message.
        let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
        stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => QueryError::Malformed {
                    message: "the TCP answer was cut short".into(),
                },
                _ => io_error(&e, port),
            })?;
        match Message::from_vec(&buf) {
            Ok(m) if m.id() == id => return Ok(m),
            Ok(_) => continue,
            Err(e) => {
                return Err(QueryError::Malformed {
                    message: e.to_string(),
                })
            }
        }
    }
}

/// Asks the recursive resolvers in turn (UDP, then TCP when the answer is truncated) and
/// returns the first message any of them sends back, whatever its response code.
pub async fn recursive(
    resolvers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
    deadline: Duration,
) -> Result<Response, QueryError> {
    recursive_with(resolvers, name, rtype, false, deadline).await
}

/// `recursive`, optionally with checking disabled (CD).
pub async fn recursive_with(
    resolvers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
    checking_disabled: bool,
    deadline: Duration,
) -> Result<Response, QueryError> {
    let flags = Flags {
        recursion: true,
        checking_disabled,
    };
    let mut last = QueryError::Unreachable {
        message: "no resolver configured".into(),
    };
    for server in resolvers {
        match query_with(*server, name, rtype, flags, Transport::Udp, deadline).await {
            Ok(r) if r.message.truncated() => {
                match query_with(*server, name, rtype, flags, Transport::Tcp, deadline).await {
                    Ok(r) => return Ok(r),
                    Err(e) => last = e,
                }
            }
            Ok(r) => return Ok(r),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Where a name's zone starts, found through the resolvers by asking for SOA at the name and
/// each parent: the SOA owner in the answer (at an apex) or the authority section (below it).
#[derive(Debug, Clone)]
pub enum ZoneLookup {
    Found(Name),
    /// The resolver failed on the way (SERVFAIL, REFUSED, or no answer).
    Failed {
        at: Name,
        error: String,
    },
    /// The resolver does not implement SOA queries (NOTIMP): a test DNS server such as
    /// pebble-challtestsrv, which only mocks A/AAAA/CNAME/TXT/CAA. No real resolver does this.
    Unsupported {
        at: Name,
    },
    NotFound,
}

pub async fn find_zone(resolvers: &[SocketAddr], name: &Name, deadline: Duration) -> ZoneLookup {
    let mut cur = name.clone();
    loop {
        if cur.is_root() {
            return ZoneLookup::NotFound;
        }
        let r = match recursive(resolvers, &cur, RecordType::SOA, deadline).await {
            Ok(r) => r,
            Err(e) => {
                return ZoneLookup::Failed {
                    at: cur,
                    error: e.to_string(),
                }
            }
        };
        match r.rcode() {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            ResponseCode::NotImp => return ZoneLookup::Unsupported { at: cur },
            _ => {
                return ZoneLookup::Failed {
                    at: cur,
                    error: format!("the resolver answered {}", describe(&r)),
                }
            }
        }
        // A CNAME can never sit at a zone apex; what follows it describes the target's zone.
        let aliased = r
            .message
            .answers()
            .iter()
            .any(|rec| rec.record_type() == RecordType::CNAME && rec.name() == &cur);
        if !aliased {
            if let Some(soa) = r
                .message
                .answers()
                .iter()
                .find(|rec| rec.record_type() == RecordType::SOA && rec.name() == &cur)
            {
                return ZoneLookup::Found(soa.name().clone());
            }
            if let Some(soa) = r
                .message
                .name_servers()
                .iter()
                .find(|rec| rec.record_type() == RecordType::SOA && rec.name().zone_of(&cur))
            {
                return ZoneLookup::Found(soa.name().clone());
            }
        }
        cur = cur.base_name();
    }
}

/// Parses a presentation-form name into a fully qualified one.
pub fn fqdn(name: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(name).map_err(|e| format!("{name}: not a DNS name ({e})"))?;
    n.set_fqdn(true);
    Ok(n)
}

/// A name as users write it: no trailing dot.
pub fn show(name: &Name) -> String {
    let s = name.to_ascii();
    s.trim_end_matches('.').to_string()
}

/// The mnemonic dig prints (NOERROR, SERVFAIL, ...), which is what users search for.
pub fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("rcode {}", u16::from(other)),
    }
}

/// One Extended DNS Error (RFC 8914) from a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtendedError {
    pub code: u16,
    pub name: &'static str,
    pub text: String,
}

impl std::fmt::Display for ExtendedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EDE {} {}", self.code, self.name)?;
        if !self.text.is_empty() {
            write!(f, ": {}", self.text)?;
        }
        Ok(())
    }
}

impl ExtendedError {
    /// Codes 1-12 of the IANA registry are DNSSEC validation failures.
    pub fn is_dnssec(&self) -> bool {
        (1..=12).contains(&self.code)
    }
}

/// The option code of Extended DNS Errors (RFC 8914 section 2).
const EDE_OPTION: u16 = 15;

/// The Extended DNS Errors in a response. hickory-proto 0.25 keeps this option as raw bytes
/// (no typed variant), so its two fields are read here: a 16-bit INFO-CODE and UTF-8 EXTRA-TEXT.
pub fn extended_errors(msg: &Message) -> Vec<ExtendedError> {
    let Some(edns) = msg.extensions() else {
        return Vec::new();
    };
    edns.options()
        .as_ref()
        .iter()
        .filter_map(|(code, opt)| match opt {
            hickory_proto::rr::rdata::opt::EdnsOption::Unknown(c, data)
                if *c == EDE_OPTION && u16::from(*code) == EDE_OPTION && data.len() >= 2 =>
            {
                let code = u16::from_be_bytes([data[0], data[1]]);
                // Extra text is for humans and may come from a hostile server: cap it.
                let text: String = String::from_utf8_lossy(&data[2..])
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(300)
                    .collect();
                Some(ExtendedError {
                    code,
                    name: ede_name(code),
                    text: text.trim_end_matches('\0').to_string(),
                })
            }
            _ => None,
        })
        .collect()
}

/// Names from the IANA "Extended DNS Error Codes" registry.
pub fn ede_name(code: u16) -> &'static str {
    match code {
        0 => "Other Error",
        1 => "Unsupported DNSKEY Algorithm",
        2 => "Unsupported DS Digest Type",
        3 => "Stale Answer",
        4 => "Forged Answer",
        5 => "DNSSEC Indeterminate",
        6 => "DNSSEC Bogus",
        7 => "Signature Expired",
        8 => "Signature Not Yet Valid",
        9 => "DNSKEY Missing",
        10 => "RRSIGs Missing",
        11 => "No Zone Key Bit Set",
        12 => "NSEC Missing",
        13 => "Cached Error",
        14 => "Not Ready",
        15 => "Blocked",
        16 => "Censored",
        17 => "Filtered",
        18 => "Prohibited",
        19 => "Stale NXDomain Answer",
        20 => "Not Authoritative",
        21 => "Not Supported",
        22 => "No Reachable Authority",
        23 => "Network Error",
        24 => "Invalid Data",
        _ => "Unassigned",
    }
}

/// The response code as dig shows it, with any Extended DNS Errors the server gave.
pub fn describe(resp: &Response) -> String {
    let mut s = rcode_name(resp.rcode());
    for e in extended_errors(&resp.message) {
        s.push_str(&format!(" ({e})"));
    }
    s
}
