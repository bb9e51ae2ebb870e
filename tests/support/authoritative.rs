//! In-process authoritative DNS servers with zones, plus a "recursive" resolver that answers
//! from all zones at once. Every server listens on its own 127.0.0.x address (Linux routes all
//! of 127/8 to lo) on one shared port, so NS records can point at several servers and the
//! binary reaches them all with `--dns-port`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use hickory_proto::dnssec::crypto::EcdsaSigningKey;
use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY, DS, NSEC, RRSIG};
use hickory_proto::dnssec::{Algorithm, DigestType, PublicKeyBuf, SigningKey, TBS};
use hickory_proto::op::{Edns, Header, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, NULL, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `n` is `origin` or below it ("" is the root zone).
fn in_zone(n: &str, origin: &str) -> bool {
    origin.is_empty() || n == origin || n.ends_with(&format!(".{origin}"))
}

fn name(n: &str) -> Name {
    Name::from_str(&format!("{}.", key(n))).expect("fixture name")
}

/// A zone: its origin, SOA serial and records (owner names absolute, without trailing dot).
#[derive(Debug, Clone)]
pub struct Zone {
    pub origin: String,
    pub records: Vec<(String, RData)>,
    /// Set by `signed()`: every answer from this zone to a query with DO carries RRSIGs made
    /// on the fly with this key.
    pub dnssec: Option<Signing>,
}

/// How the fixture breaks a signature, per (owner, type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigFault {
    /// Expired a day ago (inception ten days ago).
    Expired,
    /// Valid from tomorrow.
    NotYetValid,
    /// One byte of the signature flipped.
    Corrupt,
    /// No RRSIG at all.
    Missing,
}

/// A zone's signing key (one combined key-signing and zone-signing key, flags 257, ECDSA P-256).
#[derive(Clone)]
pub struct Signing {
    key: Arc<EcdsaSigningKey>,
    pub dnskey: DNSKEY,
    pub faults: Vec<(String, RecordType, SigFault)>,
    /// The algorithm the DNSKEY and RRSIGs name: ECDSAP256SHA256, or ED448 (16) for a zone
    /// signed with an algorithm acme-doctor cannot verify (see `Signing::ed448`).
    alg: Algorithm,
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signing(key {})", self.tag())
    }
}

impl Signing {
    pub fn generate() -> Signing {
        let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256).expect("key");
        let key = EcdsaSigningKey::from_pkcs8(&pkcs8, Algorithm::ECDSAP256SHA256).expect("key");
        let dnskey = DNSKEY::with_flags(257, key.to_public_key().expect("public key"));
        Signing {
            key: Arc::new(key),
            dnskey,
            faults: Vec::new(),
            alg: Algorithm::ECDSAP256SHA256,
        }
    }

    /// A key in ED448 (algorithm 16), which hickory's ring backend cannot verify: a 57-byte
    /// public key and RRSIGs with 114 bytes of signature that no one checks here (the lab signs
    /// with ldns-signzone for real and unbound validates them).
    pub fn ed448() -> Signing {
        let alg = Algorithm::Unknown(16);
        let public: Vec<u8> = (0..57u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect();
        Signing {
            dnskey: DNSKEY::with_flags(257, PublicKeyBuf::new(public, alg)),
            alg,
            ..Signing::generate()
        }
    }

    pub fn tag(&self) -> u16 {
        self.dnskey.calculate_key_tag().expect("key tag")
    }

    /// The DS record a parent publishes for this key at `owner`.
    pub fn ds(&self, owner: &str) -> RData {
        // DS::from_key computes the tag over the public key alone; RFC 4034 covers the whole
        // DNSKEY RDATA, as calculate_key_tag does.
        let digest = self
            .dnskey
            .to_digest(&name(owner), DigestType::SHA256)
            .expect("DS digest");
        let ds = DS::new(
            self.tag(),
            self.alg,
            DigestType::SHA256,
            digest.as_ref().to_vec(),
        );
        RData::DNSSEC(DNSSECRData::DS(ds))
    }

    /// The RRSIG over `records` (one RRset), or none when the fault says so.
    fn sign(&self, signer: &str, records: &[Record]) -> Option<Record> {
        let first = records.first()?;
        let (owner, rtype) = (first.name().clone(), first.record_type());
        let fault = self
            .faults
            .iter()
            .find(|(o, t, _)| name(o) == owner && *t == rtype)
            .map(|(_, _, f)| *f);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as u32;
        let day = 86_400;
        let (inception, expiration) = match fault {
            Some(SigFault::Missing) => return None,
            Some(SigFault::Expired) => (now - 10 * day, now - day),
            Some(SigFault::NotYetValid) => (now + day, now + 10 * day),
            _ => (now - day, now + 10 * day),
        };
        let with_signature = |sig: Vec<u8>| {
            RRSIG::new(
                rtype,
                self.alg,
                owner.num_labels(),
                first.ttl(),
                expiration,
                inception,
                self.tag(),
                name(signer),
                sig,
            )
        };
        let tbs = TBS::from_sig(
            &owner,
            DNSClass::IN,
            &with_signature(Vec::new()),
            records.iter(),
        )
        .expect("tbs");
        let mut sig = if self.alg == Algorithm::ECDSAP256SHA256 {
            self.key.sign(&tbs).expect("sign")
        } else {
            vec![0x5a; 114]
        };
        if fault == Some(SigFault::Corrupt) {
            sig[10] ^= 0x55;
        }
        let rrsig = with_signature(sig);
        Some(Record::from_rdata(
            owner,
            first.ttl(),
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
        ))
    }
}

impl Zone {
    pub fn new(origin: &str, serial: u32) -> Zone {
        let soa = RData::SOA(SOA::new(
            name(&format!("ns1.{origin}")),
            name(&format!("hostmaster.{origin}")),
            serial,
            3600,
            600,
            86400,
            300,
        ));
        Zone {
            origin: key(origin),
            records: vec![(key(origin), soa)],
            dnssec: None,
        }
    }
    /// Signs the zone with a new key and publishes its DNSKEY at the apex.
    pub fn signed(self) -> Zone {
        self.signed_with(Signing::generate())
    }
    /// Signs the zone with `signing` (e.g. `Signing::ed448()`) and publishes its DNSKEY.
    pub fn signed_with(mut self, signing: Signing) -> Zone {
        let apex = self.origin.clone();
        self.records.push((
            apex,
            RData::DNSSEC(DNSSECRData::DNSKEY(signing.dnskey.clone())),
        ));
        self.dnssec = Some(signing);
        self
    }
    /// Breaks the signature over (owner, type) in this signed zone.
    pub fn sig_fault(mut self, owner: &str, rtype: RecordType, fault: SigFault) -> Zone {
        let s = self.dnssec.as_mut().expect("sig_fault on a signed zone");
        s.faults.push((key(owner), rtype, fault));
        self
    }
    /// Publishes the DS of `child`'s key (a signed zone) at the child's apex.
    pub fn delegate_signed(self, child: &Zone) -> Zone {
        let ds = child
            .dnssec
            .as_ref()
            .expect("delegate_signed to a signed child")
            .ds(&child.origin);
        let owner = child.origin.clone();
        self.rec(&owner, ds)
    }
    /// The zone's DNSKEY in zone-file format: a `--dnssec-anchor` file's contents.
    pub fn anchor(&self) -> String {
        let s = self.dnssec.as_ref().expect("anchor of a signed zone");
        format!("{}. 3600 IN DNSKEY {}\n", self.origin, s.dnskey)
    }
    pub fn rec(mut self, owner: &str, data: RData) -> Zone {
        self.records.push((key(owner), data));
        self
    }
    pub fn ns(self, owner: &str, host: &str) -> Zone {
        self.rec(owner, RData::NS(NS(name(host))))
    }
    pub fn a(self, owner: &str, ip: &str) -> Zone {
        match ip.parse::<IpAddr>().expect("fixture address") {
            IpAddr::V4(v4) => self.rec(owner, RData::A(A(v4))),
            IpAddr::V6(v6) => self.rec(owner, RData::AAAA(AAAA(v6))),
        }
    }
    pub fn cname(self, owner: &str, target: &str) -> Zone {
        self.rec(owner, RData::CNAME(CNAME(name(target))))
    }
    pub fn txt(self, owner: &str, text: &str) -> Zone {
        self.rec(owner, RData::TXT(TXT::new(vec![text.to_string()])))
    }
    /// A CAA record written on the wire exactly as given (flags, tag, value), so tests can
    /// publish critical, unknown or malformed records.
    pub fn caa(self, owner: &str, flags: u8, tag: &str, value: &str) -> Zone {
        let mut raw = vec![flags, tag.len() as u8];
        raw.extend_from_slice(tag.as_bytes());
        raw.extend_from_slice(value.as_bytes());
        self.rec(
            owner,
            RData::Unknown {
                code: RecordType::CAA,
                rdata: NULL::with(raw),
            },
        )
    }
    /// Removes every record at `owner` of `rtype`.
    pub fn without(mut self, owner: &str, rtype: RecordType) -> Zone {
        let owner = key(owner);
        self.records
            .retain(|(o, d)| !(o == &owner && d.record_type() == rtype));
        self
    }
}

/// How one server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// REFUSED to everything: listed in NS but does not serve the zone.
    Refused,
    ServFail,
    /// Reads queries and never answers (UDP and TCP).
    Drop,
    /// Answers correctly but without the AA flag.
    NotAuthoritative,
    /// UDP only: nothing listens on TCP, so connections are reset.
    NoTcp,
    /// Answers every UDP datagram with bytes that are not DNS, and every TCP connection with a
    /// length-prefixed message of garbage.
    Garbage,
}

/// A fault the resolver injects for one (name, type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServFail,
    Drop,
    /// NOTIMP, as pebble-challtestsrv answers SOA and NS queries.
    NotImp,
    /// What a validating resolver does with a bogus answer: SERVFAIL with this Extended DNS
    /// Error (code, text), and the real answer when the query sets CD.
    Bogus(u16, &'static str),
}

#[derive(Debug, Clone)]
pub struct Server {
    pub ip: Ipv4Addr,
    pub zones: Vec<Zone>,
    pub behaviour: Behaviour,
}

pub fn server(ip: &str, zones: &[&Zone], behaviour: Behaviour) -> Server {
    Server {
        ip: ip.parse().expect("fixture server address"),
        zones: zones.iter().map(|z| (*z).clone()).collect(),
        behaviour,
    }
}

struct Handler {
    zones: Vec<Zone>,
    behaviour: Behaviour,
    recursive: bool,
    faults: Vec<(String, RecordType, Fault)>,
}

struct Answer {
    rcode: ResponseCode,
    answers: Vec<Record>,
    authority: Vec<Record>,
}

impl Handler {
    fn zone_of(&self, n: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| in_zone(n, &z.origin))
            .max_by_key(|z| z.origin.len())
    }

    /// The zone that answers (owner, type): a DS lives in the parent of the zone it names.
    fn answering_zone(&self, n: &str, rtype: RecordType) -> Option<&Zone> {
        if rtype == RecordType::DS && self.zones.iter().any(|z| z.origin == n && !n.is_empty()) {
            return self
                .zones
                .iter()
                .filter(|z| z.origin != n && in_zone(n, &z.origin))
                .max_by_key(|z| z.origin.len());
        }
        self.zone_of(n)
    }

    /// RRSIGs for every RRset in `records` whose zone is signed, and an NSEC for a signed
    /// negative answer (its type bitmap is not meaningful: the doctor only checks signatures).
    fn sign(
        &self,
        records: &[Record],
        qname: &str,
        qtype: RecordType,
        negative: bool,
    ) -> Vec<Record> {
        let mut out = Vec::new();
        let mut done: Vec<(Name, RecordType)> = Vec::new();
        for r in records {
            let k = (r.name().clone(), r.record_type());
            if done.contains(&k) || k.1 == RecordType::RRSIG {
                continue;
            }
            done.push(k.clone());
            let owner = key(&k.0.to_ascii());
            let Some(zone) = self.answering_zone(&owner, k.1) else {
                continue;
            };
            let Some(signing) = &zone.dnssec else {
                continue;
            };
            let set: Vec<Record> = records
                .iter()
                .filter(|x| x.name() == &k.0 && x.record_type() == k.1)
                .cloned()
                .collect();
            out.extend(signing.sign(&zone.origin, &set));
        }
        if negative {
            if let Some(zone) = self.answering_zone(&key(qname), qtype) {
                if let Some(signing) = &zone.dnssec {
                    let nsec = Record::from_rdata(
                        name(qname),
                        60,
                        RData::DNSSEC(DNSSECRData::NSEC(NSEC::new(
                            name(&format!("_next.{}", key(qname))),
                            [RecordType::RRSIG, RecordType::NSEC],
                        ))),
                    );
                    out.extend(signing.sign(&zone.origin, std::slice::from_ref(&nsec)));
                    out.push(nsec);
                }
            }
        }
        out
    }

    fn answer(&self, qname: &str, qtype: RecordType) -> Answer {
        let mut answers = Vec::new();
        let mut cur = key(qname);
        for depth in 0..8 {
            let Some(zone) = self.answering_zone(&cur, qtype) else {
                let rcode = match (depth, self.recursive) {
                    (0, false) => ResponseCode::Refused,
                    (0, true) => ResponseCode::NXDomain,
                    _ => ResponseCode::NoError,
                };
                return Answer {
                    rcode,
                    answers,
                    authority: vec![],
                };
            };
            let at: Vec<&RData> = zone
                .records
                .iter()
                .filter(|(o, _)| *o == cur)
                .map(|(_, d)| d)
                .collect();
            let owner = name(&cur);
            let matching: Vec<Record> = at
                .iter()
                .filter(|d| d.record_type() == qtype)
                .map(|d| Record::from_rdata(owner.clone(), 60, (*d).clone()))
                .collect();
            if !matching.is_empty() {
                answers.extend(matching);
                return Answer {
                    rcode: ResponseCode::NoError,
                    answers,
                    authority: vec![],
                };
            }
            if let Some(RData::CNAME(c)) = at.iter().find(|d| d.record_type() == RecordType::CNAME)
            {
                if qtype != RecordType::CNAME {
                    answers.push(Record::from_rdata(owner, 60, RData::CNAME(c.clone())));
                    if !self.recursive {
                        return Answer {
                            rcode: ResponseCode::NoError,
                            answers,
                            authority: vec![],
                        };
                    }
                    cur = key(&c.0.to_ascii());
                    continue;
                }
            }
            let exists = !at.is_empty()
                || zone
                    .records
                    .iter()
                    .any(|(o, _)| o.ends_with(&format!(".{cur}")));
            let soa = zone
                .records
                .iter()
                .find(|(o, d)| *o == zone.origin && d.record_type() == RecordType::SOA)
                .map(|(o, d)| Record::from_rdata(name(o), 60, d.clone()));
            return Answer {
                rcode: if exists {
                    ResponseCode::NoError
                } else {
                    ResponseCode::NXDomain
                },
                answers,
                authority: soa.into_iter().collect(),
            };
        }
        Answer {
            rcode: ResponseCode::ServFail,
            answers: vec![],
            authority: vec![],
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let info = request.request_info().expect("one query");
        let qname = info.query.name().to_string();
        let qtype = info.query.query_type();
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut header = Header::response_from_request(request.header());
        header.set_message_type(MessageType::Response);
        header.set_op_code(OpCode::Query);
        header.set_recursion_available(self.recursive);
        let fault = self
            .faults
            .iter()
            .find(|(n, t, _)| *n == key(&qname) && *t == qtype)
            .map(|(_, _, f)| *f);
        let behaviour = match fault {
            Some(Fault::ServFail) => Behaviour::ServFail,
            Some(Fault::Drop) => Behaviour::Drop,
            Some(Fault::NotImp) => {
                let msg = builder.error_msg(request.header(), ResponseCode::NotImp);
                return response
                    .send_response(msg)
                    .await
                    .unwrap_or_else(|_| header.into());
            }
            Some(Fault::Bogus(code, text)) if !request.header().checking_disabled() => {
                let mut payload = code.to_be_bytes().to_vec();
                payload.extend_from_slice(text.as_bytes());
                let mut edns = Edns::new();
                edns.options_mut().insert(EdnsOption::Unknown(15, payload));
                let mut builder = builder;
                builder.edns(edns);
                header.set_response_code(ResponseCode::ServFail);
                let msg = builder.build(header, [], [], [], []);
                return response
                    .send_response(msg)
                    .await
                    .unwrap_or_else(|_| header.into());
            }
            _ => self.behaviour,
        };
        let error = match behaviour {
            Behaviour::Refused => Some(ResponseCode::Refused),
            Behaviour::ServFail => Some(ResponseCode::ServFail),
            Behaviour::Drop => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return header.into();
            }
            _ => None,
        };
        if let Some(code) = error {
            let msg = builder.error_msg(request.header(), code);
            return response
                .send_response(msg)
                .await
                .unwrap_or_else(|_| header.into());
        }
        let ans = self.answer(&qname, qtype);
        header.set_response_code(ans.rcode);
        header.set_authoritative(
            !self.recursive
                && behaviour != Behaviour::NotAuthoritative
                && ans.rcode != ResponseCode::Refused,
        );
        let mut answers = ans.answers;
        let mut authority = ans.authority;
        let dnssec_ok = request.edns().is_some_and(|e| e.flags().dnssec_ok);
        if dnssec_ok {
            let negative = answers.is_empty()
                && matches!(ans.rcode, ResponseCode::NoError | ResponseCode::NXDomain);
            let sigs = self.sign(&answers, &qname, qtype, false);
            answers.extend(sigs);
            let auth_sigs = self.sign(&authority, &qname, qtype, negative);
            authority.extend(auth_sigs);
        }
        let msg = builder.build(header, answers.iter(), authority.iter(), [], []);
        response
            .send_response(msg)
            .await
            .unwrap_or_else(|_| header.into())
    }
}

/// A running set of servers; they stop when dropped.
pub struct AuthLab {
    /// The port every server (and the resolver) listens on: pass it as `--dns-port`.
    pub port: u16,
    /// The resolver on 127.0.0.1: pass it as `--resolver`.
    pub resolver: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for AuthLab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl AuthLab {
    /// Starts the resolver (answering from `world`, with `faults`) and the servers.
    pub async fn start(
        world: &[&Zone],
        faults: &[(&str, RecordType, Fault)],
        servers: &[Server],
    ) -> AuthLab {
        let mut ips = vec![Ipv4Addr::LOCALHOST];
        ips.extend(servers.iter().map(|s| s.ip));
        let (port, sockets) = bind_all(&ips, servers).await;
        let mut tasks = Vec::new();
        let mut handlers: Vec<Handler> = vec![Handler {
            zones: world.iter().map(|z| (*z).clone()).collect(),
            behaviour: Behaviour::Normal,
            recursive: true,
            faults: faults.iter().map(|(n, t, f)| (key(n), *t, *f)).collect(),
        }];
        for s in servers {
            handlers.push(Handler {
                zones: s.zones.clone(),
                behaviour: s.behaviour,
                recursive: false,
                faults: vec![],
            });
        }
        for (handler, (udp, tcp)) in handlers.into_iter().zip(sockets) {
            if handler.behaviour == Behaviour::Garbage {
                tasks.push(tokio::spawn(garbage(udp, tcp)));
                continue;
            }
            let mut server = ServerFuture::new(handler);
            server.register_socket(udp);
            if let Some(tcp) = tcp {
                server.register_listener(tcp, Duration::from_secs(5));
            }
            tasks.push(tokio::spawn(async move {
                let _ = server.block_until_done().await;
            }));
        }
        AuthLab {
            port,
            resolver: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            tasks,
        }
    }
}

async fn garbage(udp: UdpSocket, tcp: Option<TcpListener>) {
    use tokio::io::AsyncWriteExt;
    let tcp_task = tokio::spawn(async move {
        let Some(tcp) = tcp else { return };
        while let Ok((mut s, _)) = tcp.accept().await {
            let _ = s.write_all(b"\x00\x07garbage").await;
        }
    });
    let mut buf = [0u8; 512];
    while let Ok((_, from)) = udp.recv_from(&mut buf).await {
        let _ = udp.send_to(b"not dns at all", from).await;
    }
    tcp_task.abort();
}

type Sockets = Vec<(UdpSocket, Option<TcpListener>)>;

/// One port free on every address for UDP and TCP (TCP skipped for `NoTcp` servers).
async fn bind_all(ips: &[Ipv4Addr], servers: &[Server]) -> (u16, Sockets) {
    'retry: for _ in 0..50 {
        let first = UdpSocket::bind((ips[0], 0)).await.expect("bind udp");
        let port = first.local_addr().expect("addr").port();
        let mut out = Vec::new();
        let mut first = Some(first);
        for (i, ip) in ips.iter().enumerate() {
            let udp = match first.take() {
                Some(u) => u,
                None => match UdpSocket::bind((*ip, port)).await {
                    Ok(u) => u,
                    Err(_) => continue 'retry,
                },
            };
            let no_tcp = i > 0 && servers[i - 1].behaviour == Behaviour::NoTcp;
            let tcp = if no_tcp {
                None
            } else {
                match TcpListener::bind((*ip, port)).await {
                    Ok(t) => Some(t),
                    Err(_) => continue 'retry,
                }
            };
            out.push((udp, tcp));
        }
        return (port, out);
    }
    panic!("no port free on all fixture addresses");
}

/// example.com served by ns1 (127.0.0.2) and ns2 (127.0.0.3), with documentation addresses as
/// the lab uses: the healthy baseline that tests change one thing in.
pub fn example_zone(serial: u32) -> Zone {
    Zone::new("example.com", serial)
        .ns("example.com", "ns1.example.com")
        .ns("example.com", "ns2.example.com")
        .a("ns1.example.com", "127.0.0.2")
        .a("ns2.example.com", "127.0.0.3")
        .a("example.com", "198.51.100.7")
        .a("example.com", "2001:db8::7")
        .a("www.example.com", "198.51.100.7")
}

/// The resolver knows `zones`; ns1 and ns2 both serve `zone` normally unless `ns2` says
/// otherwise.
pub async fn two_servers(
    zone: &Zone,
    ns2: Behaviour,
    others: &[&Zone],
    faults: &[(&str, RecordType, Fault)],
) -> AuthLab {
    let mut world = vec![zone];
    world.extend_from_slice(others);
    AuthLab::start(
        &world,
        faults,
        &[
            server("127.0.0.2", &[zone], Behaviour::Normal),
            server("127.0.0.3", &[zone], ns2),
        ],
    )
    .await
}

/// Runs the binary with `--only check` against the lab; `args` adds identifiers and options.
pub async fn run(lab: &AuthLab, check: &str, args: &[&str]) -> super::Run {
    let resolver = lab.resolver.to_string();
    let port = lab.port.to_string();
    let mut all = vec![
        "--resolver",
        &resolver,
        "--dns-port",
        &port,
        "--only",
        check,
        "--format",
        "json",
        "--timeout",
        "1",
    ];
    all.extend_from_slice(args);
    super::doctor(&all, &[]).await
}

/// A signed root zone that delegates example.com, with a DS when `child` is signed: the top
/// of a test chain of trust whose `anchor()` goes in a `--dnssec-anchor` file.
pub fn signed_root_for(child: &Zone) -> Zone {
    let root = Zone::new("", 1)
        .signed()
        .ns("example.com", "ns1.example.com");
    if child.dnssec.is_some() {
        root.delegate_signed(child)
    } else {
        root
    }
}

/// `run` with `anchor` (zone-file DNSKEY/DS text) as the only DNSSEC trust anchor.
pub async fn run_anchored(lab: &AuthLab, check: &str, args: &[&str], anchor: &str) -> super::Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("anchor.key");
    std::fs::write(&file, anchor).expect("anchor file");
    let path = file.to_str().expect("utf-8 path").to_string();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--dnssec-anchor", &path]);
    run(lab, check, &all).await
}

/// No warn or fail finding anywhere in the run.
pub fn quiet(run: &super::Run) {
    let bad: Vec<_> = run.json()["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

pub fn summary(run: &super::Run, code: &str) -> String {
    run.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
