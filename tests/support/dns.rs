//! A scriptable DNS server on loopback (hickory-server), for pointing `--resolver` at.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::{Header, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

/// How the fixture answers a name.
#[derive(Debug, Clone)]
pub enum Answer {
    Addrs(Vec<IpAddr>),
    Cname(String),
    ServFail,
    Refused,
    /// Read the query and never answer.
    Drop,
}

pub fn addrs(list: &[&str]) -> Answer {
    Answer::Addrs(
        list.iter()
            .map(|a| a.parse().expect("fixture address"))
            .collect(),
    )
}

struct Handler {
    names: HashMap<String, Answer>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Handler {
    fn resolve(
        &self,
        qname: &str,
        qtype: RecordType,
        out: &mut Vec<Record>,
        depth: usize,
    ) -> Result<(), ResponseCode> {
        let Some(ans) = self.names.get(&key(qname)) else {
            return if depth == 0 {
                Err(ResponseCode::NXDomain)
            } else {
                Ok(())
            };
        };
        let name = Name::from_str(&format!("{}.", key(qname))).expect("fixture name");
        match ans {
            Answer::Addrs(list) => {
                for ip in list {
                    let rdata = match (ip, qtype) {
                        (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
                        (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
                        _ => continue,
                    };
                    out.push(Record::from_rdata(name.clone(), 60, rdata));
                }
                Ok(())
            }
            Answer::Cname(target) if depth < 8 => {
                let t = Name::from_str(&format!("{}.", key(target))).expect("fixture target");
                out.push(Record::from_rdata(name, 60, RData::CNAME(CNAME(t))));
                self.resolve(target, qtype, out, depth + 1)
            }
            Answer::Cname(_) => Err(ResponseCode::ServFail),
            Answer::ServFail => Err(ResponseCode::ServFail),
            Answer::Refused => Err(ResponseCode::Refused),
            Answer::Drop => Err(ResponseCode::Unknown(9999)),
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
        header.set_recursion_available(true);
        let mut records = Vec::new();
        match self.resolve(&qname, qtype, &mut records, 0) {
            Err(ResponseCode::Unknown(9999)) => {
                // Never answer: the client must time out.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                header.into()
            }
            Err(code) => {
                let msg = builder.error_msg(request.header(), code);
                response
                    .send_response(msg)
                    .await
                    .unwrap_or_else(|_| header.into())
            }
            Ok(()) => {
                let msg = builder.build(header, records.iter(), [], [], []);
                response
                    .send_response(msg)
                    .await
                    .unwrap_or_else(|_| header.into())
            }
        }
    }
}

/// A running DNS fixture; it stops when dropped.
pub struct DnsFixture {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DnsFixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DnsFixture {
    /// Serves `names` over UDP and TCP on 127.0.0.1; any other name is NXDOMAIN.
    pub async fn start(names: &[(&str, Answer)]) -> DnsFixture {
        let handler = Handler {
            names: names.iter().map(|(n, a)| (key(n), a.clone())).collect(),
        };
        // UDP and TCP on one port: the kernel picks the UDP port, which may be taken for TCP.
        let mut bound = None;
        for _ in 0..50 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
            let addr = udp.local_addr().expect("udp addr");
            if let Ok(tcp) = TcpListener::bind(addr).await {
                bound = Some((udp, tcp, addr));
                break;
            }
        }
        let (udp, tcp, addr) = bound.expect("a port free for both UDP and TCP");
        let mut server = ServerFuture::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5));
        let task = tokio::spawn(async move {
            let _ = server.block_until_done().await;
        });
        DnsFixture { addr, task }
    }

    /// A resolver address that accepts queries (UDP and TCP) and never answers.
    pub async fn black_hole() -> (SocketAddr, impl Drop) {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let addr = udp.local_addr().expect("addr");
        let tcp = std::net::TcpListener::bind(addr).expect("bind tcp");
        struct Hold(
            #[allow(dead_code)] std::net::UdpSocket,
            #[allow(dead_code)] std::net::TcpListener,
        );
        impl Drop for Hold {
            fn drop(&mut self) {}
        }
        (addr, Hold(udp, tcp))
    }
}
