//! A fake Globalping API (jsdelivr/globalping `public/v1/spec.yaml`): `POST /v1/measurements`
//! answers 202 `{id, probesCount}` with the rate-limit headers, `GET /v1/measurements/{id}`
//! answers `in-progress` (with per-probe `in-progress` results) until the probes are done and a
//! scripted number of polls has passed, then `finished`, with ETag / If-None-Match. Errors use
//! the API's shape `{"error":{"type","message","params"?},"links":{...}}`: 400
//! validation_error, 422 no_probes_found, 429 rate_limit_exceeded.
//!
//! Its probes are real: each HTTP probe resolves the target through the fake's host table,
//! connects over TCP (TLS for HTTPS, certificate not verified), sends a GET and reports status,
//! headers, body (capped at 10 kB) and timings; each DNS probe sends a real UDP query to the
//! given resolver. Per-probe faults are real too: `Timeout` connects to a black hole, `Refused`
//! to a closed port, `Forbidden` to a WAF that answers 403.
//!
//! A probe can also stand in a network namespace (a vantage point of the root-only lab,
//! `tests/lab/vantage.sh`): its measurement then runs as `ip netns exec NS <this program> probe
//! <request JSON>` (`examples/globalping_fake.rs` is such a program), which resolves the target
//! with the namespace's own resolv.conf and measures with the same code as an in-process probe;
//! no fault is scripted there, the namespace's routes and firewalls decide. Either way a
//! failure's text comes from the socket error (ETIMEDOUT, ECONNREFUSED, ECONNRESET,
//! EHOSTUNREACH, ENETUNREACH, as Globalping's Node probes print them).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::http01::{always, HttpFixture, Reply};
use super::tcp::{closed_port, BlackHole};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Packets dropped: the probe's connection (or DNS query) goes unanswered.
    Timeout,
    /// The probe's connection is refused.
    Refused,
    /// A WAF answers 403 to this probe.
    Forbidden,
    /// The probe disconnects from the network during the measurement.
    Offline,
}

#[derive(Debug, Clone)]
pub struct FakeProbe {
    pub location: Value,
    /// Scripted fault of an in-process probe (ignored in a namespace, where the network decides).
    pub fault: Fault,
    /// The network namespace this probe measures from; `None`: in this process, on loopback.
    pub netns: Option<String>,
}

impl FakeProbe {
    /// The same probe, measuring from inside network namespace `ns`.
    pub fn in_netns(self, ns: &str) -> FakeProbe {
        FakeProbe {
            netns: Some(ns.to_string()),
            ..self
        }
    }
}

/// A probe location with every field the spec lists.
pub fn place(
    country: &str,
    continent: &str,
    region: &str,
    city: &str,
    asn: u32,
    network: &str,
) -> Value {
    json!({"continent": continent, "region": region, "country": country, "state": null,
           "city": city, "asn": asn, "network": network, "latitude": 50.1, "longitude": 8.7,
           "tags": ["datacenter-network"]})
}

pub fn probe(location: Value) -> FakeProbe {
    FakeProbe {
        location,
        fault: Fault::None,
        netns: None,
    }
}

/// Eight probes in the countries the doctor asks for by default (every RIR).
pub fn default_probes() -> Vec<FakeProbe> {
    vec![
        probe(place(
            "US",
            "NA",
            "Northern America",
            "Ashburn",
            16509,
            "Amazon.com, Inc.",
        )),
        probe(place(
            "DE",
            "EU",
            "Western Europe",
            "Frankfurt",
            24940,
            "Hetzner Online GmbH",
        )),
        probe(place(
            "SG",
            "AS",
            "South-eastern Asia",
            "Singapore",
            14061,
            "DigitalOcean, LLC",
        )),
        probe(place(
            "BR",
            "SA",
            "South America",
            "São Paulo",
            28573,
            "Claro NXT",
        )),
        probe(place(
            "GB",
            "EU",
            "Northern Europe",
            "London",
            2856,
            "British Telecommunications PLC",
        )),
        probe(place(
            "JP",
            "AS",
            "Eastern Asia",
            "Tokyo",
            2516,
            "KDDI Corporation",
        )),
        probe(place(
            "ZA",
            "AF",
            "Southern Africa",
            "Johannesburg",
            37100,
            "SEACOM",
        )),
        probe(place(
            "CA",
            "NA",
            "Northern America",
            "Toronto",
            812,
            "Rogers Communications",
        )),
    ]
}

/// A scripted answer to every create request.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

pub fn rate_limited() -> Scripted {
    Scripted {
        status: 429,
        body: json!({"error": {"type": "rate_limit_exceeded", "message": "API rate limit exceeded."},
                     "links": {"documentation": "https://globalping.io/docs/api.globalping.io#post-/v1/measurements"}}),
        headers: vec![
            ("X-RateLimit-Limit".into(), "250".into()),
            ("X-RateLimit-Consumed".into(), "250".into()),
            ("X-RateLimit-Remaining".into(), "0".into()),
            ("X-RateLimit-Reset".into(), "1234".into()),
        ],
    }
}

pub fn bad_request() -> Scripted {
    Scripted {
        status: 400,
        body: json!({"error": {"type": "validation_error", "message": "Parameter validation failed.",
                               "params": {"locations[0].magic": "\"magic\" does not match any probes"}},
                     "links": {"documentation": "https://globalping.io/docs/api.globalping.io"}}),
        headers: vec![],
    }
}

struct Stored {
    body: Value,
    probes: Vec<usize>,
    results: Arc<Mutex<Vec<Option<Value>>>>,
    polls: Vec<Instant>,
    created: String,
}

pub struct State {
    pub probes: Vec<FakeProbe>,
    /// Host name → addresses, as the probes' resolvers see them.
    pub hosts: HashMap<String, Vec<IpAddr>>,
    /// Polls answered `in-progress` before `finished`, even when the probes are done.
    pub in_progress_polls: usize,
    pub script: Option<Scripted>,
    /// Every create request body, and its Authorization header.
    pub created: Vec<(Value, Option<String>)>,
    /// DNS queries from a country to a nameserver that go unanswered (a per-region block).
    pub dns_blocks: Vec<(String, IpAddr)>,
    measurements: HashMap<String, Stored>,
    next: u64,
}

struct Targets {
    hole_v4: SocketAddr,
    hole_v6: SocketAddr,
    closed_v4: SocketAddr,
    closed_v6: SocketAddr,
    waf: u16,
    waf_tls: u16,
    silent_udp: SocketAddr,
}

pub struct GlobalpingFake {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    _holes: (BlackHole, BlackHole),
    _waf: (HttpFixture, HttpFixture),
    _silent: Arc<UdpSocket>,
}

impl Drop for GlobalpingFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a fake probe waits for a connection or an answer.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a probe in a namespace may take, process start to its printed result.
const NETNS_PROBE_DEADLINE: Duration = Duration::from_secs(10);

impl GlobalpingFake {
    /// The API on a random loopback port.
    pub async fn start(probes: Vec<FakeProbe>, hosts: &[(&str, &[&str])]) -> GlobalpingFake {
        GlobalpingFake::start_on("127.0.0.1:0", probes, hosts).await
    }

    /// The API on `listen` (an address and port); its URL is `http://<listen>/v1/`.
    pub async fn start_on(
        listen: &str,
        probes: Vec<FakeProbe>,
        hosts: &[(&str, &[&str])],
    ) -> GlobalpingFake {
        let hole_v4 = BlackHole::bind("127.0.0.1:0");
        let hole_v6 = BlackHole::bind("[::1]:0");
        let waf_reply = Reply::body(
            403,
            "<html><body>Access denied: your country is blocked</body></html>",
        )
        .server("cloudflare");
        let waf = HttpFixture::start(
            Some(always(waf_reply.clone())),
            Some(always(waf_reply.clone())),
        )
        .await;
        let waf_tls =
            HttpFixture::start_tls(Some(always(waf_reply.clone())), Some(always(waf_reply))).await;
        let silent = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("udp"));
        let targets = Arc::new(Targets {
            hole_v4: hole_v4.addr,
            hole_v6: hole_v6.addr,
            closed_v4: closed_port("127.0.0.1"),
            closed_v6: closed_port("[::1]"),
            waf: waf.port,
            waf_tls: waf_tls.port,
            silent_udp: silent.local_addr().expect("addr"),
        });
        let state = Arc::new(Mutex::new(State {
            probes,
            hosts: hosts
                .iter()
                .map(|(h, a)| {
                    (
                        h.to_string(),
                        a.iter().map(|a| a.parse().expect("ip")).collect(),
                    )
                })
                .collect(),
            in_progress_polls: 1,
            script: None,
            created: Vec::new(),
            dns_blocks: Vec::new(),
            measurements: HashMap::new(),
            next: 1,
        }));
        let listener = TcpListener::bind(listen)
            .await
            .unwrap_or_else(|e| panic!("bind {listen}: {e}"));
        let local = listener.local_addr().expect("addr");
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let (st, targets) = (st.clone(), targets.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (st, targets) = (st.clone(), targets.clone());
                        async move { Ok::<_, Infallible>(handle(req, st, targets).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(s), svc)
                        .await;
                });
            }
        });
        GlobalpingFake {
            url: format!("http://{local}/v1/"),
            state,
            task,
            _holes: (hole_v4, hole_v6),
            _waf: (waf, waf_tls),
            _silent: silent,
        }
    }

    pub fn set_fault(&self, country: &str, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        for p in s
            .probes
            .iter_mut()
            .filter(|p| p.location["country"] == country)
        {
            p.fault = fault;
        }
    }

    pub fn block_dns(&self, country: &str, ns: &str) {
        self.state
            .lock()
            .unwrap()
            .dns_blocks
            .push((country.to_string(), ns.parse().expect("ip")));
    }

    pub fn script(&self, s: Scripted) {
        self.state.lock().unwrap().script = Some(s);
    }

    pub fn created(&self) -> Vec<(Value, Option<String>)> {
        self.state.lock().unwrap().created.clone()
    }

    /// The gaps between consecutive polls of every measurement.
    pub fn poll_gaps(&self) -> Vec<Duration> {
        let s = self.state.lock().unwrap();
        s.measurements
            .values()
            .flat_map(|m| m.polls.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>())
            .collect()
    }
}

fn reply(status: u16, body: Value, headers: &[(String, String)]) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(status)
        .header("Content-Type", "application/json; charset=utf-8");
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn error(status: u16, kind: &str, message: &str) -> Response<Full<Bytes>> {
    reply(
        status,
        json!({"error": {"type": kind, "message": message},
               "links": {"documentation": "https://globalping.io/docs/api.globalping.io"}}),
        &[],
    )
}

fn validation(params: Value) -> Response<Full<Bytes>> {
    reply(
        400,
        json!({"error": {"type": "validation_error", "message": "Parameter validation failed.", "params": params},
               "links": {"documentation": "https://globalping.io/docs/api.globalping.io"}}),
        &[],
    )
}

fn matches(loc: &Value, probe: &Value) -> bool {
    let fields = ["continent", "region", "country", "state", "city", "network"];
    for f in fields {
        if let Some(want) = loc[f].as_str() {
            if !probe[f]
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case(want))
            {
                return false;
            }
        }
    }
    if let Some(asn) = loc["asn"].as_u64() {
        if probe["asn"].as_u64() != Some(asn) {
            return false;
        }
    }
    if let Some(magic) = loc["magic"].as_str() {
        // Globalping's magic field: "+" joins terms that must all match some field.
        for term in magic.split('+') {
            let t = term.trim().to_ascii_lowercase();
            let mut hay: Vec<String> = fields
                .iter()
                .filter_map(|f| probe[*f].as_str().map(|s| s.to_ascii_lowercase()))
                .collect();
            hay.push(format!("as{}", probe["asn"]));
            if let Some(tags) = probe["tags"].as_array() {
                hay.extend(
                    tags.iter()
                        .filter_map(|t| t.as_str().map(str::to_ascii_lowercase)),
                );
            }
            if !hay
                .iter()
                .any(|h| h == &t || (t.len() > 3 && h.contains(&t)))
            {
                return false;
            }
        }
    }
    true
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<Mutex<State>>,
    targets: Arc<Targets>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let inm = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if method == hyper::Method::POST && path == "/v1/measurements" {
        let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return error(413, "request_too_large", "Request body too large."),
        };
        let Ok(body) = serde_json::from_slice::<Value>(&body) else {
            return validation(json!({"body": "\"body\" must be valid JSON"}));
        };
        return create(body, auth, &st, &targets);
    }
    if method == hyper::Method::GET {
        if let Some(id) = path.strip_prefix("/v1/measurements/") {
            return get(id, inm, &st);
        }
    }
    error(404, "not_found", "Couldn't find the requested route.")
}

fn create(
    body: Value,
    auth: Option<String>,
    st: &Arc<Mutex<State>>,
    targets: &Arc<Targets>,
) -> Response<Full<Bytes>> {
    let mut s = st.lock().unwrap();
    s.created.push((body.clone(), auth));
    if let Some(sc) = s.script.clone() {
        return reply(sc.status, sc.body, &sc.headers);
    }
    let kind = body["type"].as_str().unwrap_or("");
    if !["ping", "traceroute", "dns", "mtr", "http"].contains(&kind) {
        return validation(
            json!({"type": "\"type\" must be one of [ping, traceroute, dns, mtr, http]"}),
        );
    }
    if body["target"].as_str().is_none_or(str::is_empty) {
        return validation(json!({"target": "\"target\" is required"}));
    }
    let opts = &body["measurementOptions"];
    if kind == "http" {
        if !opts["protocol"]
            .as_str()
            .is_none_or(|p| ["HTTP", "HTTPS", "HTTP2"].contains(&p))
        {
            return validation(
                json!({"measurementOptions.protocol": "\"protocol\" must be one of [HTTP, HTTPS, HTTP2]"}),
            );
        }
        if !opts["request"]["method"]
            .as_str()
            .is_none_or(|m| ["GET", "HEAD", "OPTIONS"].contains(&m))
        {
            return validation(
                json!({"measurementOptions.request.method": "\"method\" must be one of [HEAD, GET, OPTIONS]"}),
            );
        }
    }
    // Which probes: fresh ones by location, or the same as an earlier measurement.
    let chosen: Vec<usize> = match &body["locations"] {
        Value::String(id) => match s.measurements.get(id) {
            Some(m) => m.probes.clone(),
            None => return error(422, "no_probes_found", "No matching probes available."),
        },
        Value::Array(locs) => {
            let mut used = Vec::new();
            for loc in locs {
                let limit = loc["limit"].as_u64().unwrap_or(1) as usize;
                let picked: Vec<usize> = (0..s.probes.len())
                    .filter(|i| !used.contains(i) && matches(loc, &s.probes[*i].location))
                    .take(limit)
                    .collect();
                used.extend(picked);
            }
            used
        }
        Value::Null => (0..s
            .probes
            .len()
            .min(body["limit"].as_u64().unwrap_or(1) as usize))
            .collect(),
        _ => return validation(json!({"locations": "\"locations\" must be an array or a string"})),
    };
    if chosen.is_empty() {
        let v = if opts["ipVersion"] == 6 {
            "IPv6"
        } else {
            "IPv4"
        };
        return error(
            422,
            "no_probes_found",
            &format!("No matching {v} probes available."),
        );
    }
    let id = format!("fake{:04}", s.next);
    s.next += 1;
    let results = Arc::new(Mutex::new(vec![None; chosen.len()]));
    for (slot, &i) in chosen.iter().enumerate() {
        let mut fault = s.probes[i].fault;
        let resolver = opts["resolver"]
            .as_str()
            .and_then(|r| r.parse::<IpAddr>().ok());
        let country = s.probes[i].location["country"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if kind == "dns"
            && s.dns_blocks
                .iter()
                .any(|(c, ip)| *c == country && Some(*ip) == resolver)
        {
            fault = Fault::Timeout;
        }
        let (body, results, targets) = (body.clone(), results.clone(), targets.clone());
        let hosts = s.hosts.clone();
        let netns = s.probes[i].netns.clone();
        tokio::spawn(async move {
            let r = match netns {
                Some(ns) => run_in_netns(&ns, &body).await,
                None => run_probe(&body, fault, &hosts, &targets).await,
            };
            results.lock().unwrap()[slot] = Some(r);
        });
    }
    let n = chosen.len();
    s.measurements.insert(
        id.clone(),
        Stored {
            body,
            probes: chosen,
            results,
            polls: Vec::new(),
            created: "2026-11-22T21:00:00.000Z".into(),
        },
    );
    reply(
        202,
        json!({"id": id, "probesCount": n}),
        &[
            ("Location".into(), format!("/v1/measurements/{id}")),
            ("X-RateLimit-Limit".into(), "250".into()),
            ("X-RateLimit-Consumed".into(), n.to_string()),
            ("X-RateLimit-Remaining".into(), (250 - n).to_string()),
            ("X-RateLimit-Reset".into(), "3600".into()),
            ("X-Request-Cost".into(), n.to_string()),
        ],
    )
}

fn get(id: &str, inm: Option<String>, st: &Arc<Mutex<State>>) -> Response<Full<Bytes>> {
    let mut s = st.lock().unwrap();
    let wanted = s.in_progress_polls;
    let probes: Vec<Value> = s.probes.iter().map(|p| p.location.clone()).collect();
    let Some(m) = s.measurements.get_mut(id) else {
        return error(404, "not_found", "Couldn't find the requested measurement.");
    };
    m.polls.push(Instant::now());
    let results = m.results.lock().unwrap().clone();
    let done = results.iter().all(Option::is_some) && m.polls.len() > wanted;
    let status = if done { "finished" } else { "in-progress" };
    let etag = format!(
        "\"{id}-{status}-{}\"",
        results.iter().filter(|r| r.is_some()).count()
    );
    if inm.as_deref() == Some(etag.as_str()) {
        return Response::builder()
            .status(304)
            .header("ETag", etag)
            .body(Full::new(Bytes::new()))
            .expect("304");
    }
    let results: Vec<Value> = m
        .probes
        .iter()
        .zip(results)
        .map(|(&i, r)| {
            let mut probe = probes[i].clone();
            probe["resolvers"] = json!(["private"]);
            let result = match r {
                Some(r) if done => r,
                _ => json!({"status": "in-progress", "rawOutput": ""}),
            };
            json!({"probe": probe, "result": result})
        })
        .collect();
    let body = json!({
        "id": id, "type": m.body["type"], "status": status, "createdAt": m.created,
        "updatedAt": m.created, "target": m.body["target"], "probesCount": m.probes.len(),
        "locations": m.body["locations"], "measurementOptions": m.body["measurementOptions"],
        "results": results,
    });
    reply(200, body, &[("ETag".into(), etag)])
}

fn failed(raw: String) -> Value {
    json!({"status": "failed", "rawOutput": raw, "rawHeaders": null, "rawBody": null,
           "truncated": false, "headers": {}, "statusCode": null, "statusCodeName": null,
           "resolvedAddress": null,
           "timings": {"total": null, "dns": null, "tcp": null, "tls": null, "firstByte": null, "download": null},
           "tls": null})
}

async fn run_probe(
    body: &Value,
    fault: Fault,
    hosts: &HashMap<String, Vec<IpAddr>>,
    t: &Targets,
) -> Value {
    let opts = &body["measurementOptions"];
    let target = body["target"].as_str().unwrap_or("");
    if fault == Fault::Offline {
        return json!({"status": "offline", "rawOutput": ""});
    }
    if body["type"] == "dns" {
        let server = match fault {
            Fault::Timeout => Some(t.silent_udp),
            Fault::Refused => Some(t.closed_v4),
            _ => None,
        };
        return dns_measure(target, opts, server).await;
    }
    let (https, port) = http_port(opts);
    let ip = match target.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => hosts.get(target).and_then(|a| {
            a.iter()
                .find(|ip| match opts["ipVersion"].as_u64() {
                    Some(6) => ip.is_ipv6(),
                    Some(_) => ip.is_ipv4(),
                    None => true,
                })
                .copied()
        }),
    };
    let Some(ip) = ip else {
        return failed(format!("getaddrinfo ENOTFOUND {target}"));
    };
    let addr = match fault {
        Fault::None | Fault::Offline => SocketAddr::new(ip, port),
        Fault::Timeout if ip.is_ipv6() => t.hole_v6,
        Fault::Timeout => t.hole_v4,
        Fault::Refused if ip.is_ipv6() => t.closed_v6,
        Fault::Refused => t.closed_v4,
        Fault::Forbidden => SocketAddr::new(ip, if https { t.waf_tls } else { t.waf }),
    };
    http_measure(body, ip, addr).await
}

/// Runs one probe's measurement inside network namespace `ns` as
/// `ip netns exec NS <this program> probe <request JSON>` and reads the result it prints.
async fn run_in_netns(ns: &str, body: &Value) -> Value {
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return failed(format!("vantage {ns}: cannot find this program: {e}")),
    };
    let mut cmd = tokio::process::Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(program)
        .arg("probe")
        .arg(body.to_string())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let result = match tokio::time::timeout(NETNS_PROBE_DEADLINE, cmd.output()).await {
        Err(_) => failed(format!(
            "vantage {ns}: the probe process gave no result within {} s",
            NETNS_PROBE_DEADLINE.as_secs()
        )),
        Ok(Err(e)) => failed(format!("vantage {ns}: cannot run ip netns exec: {e}")),
        Ok(Ok(out)) => serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            failed(format!(
                "vantage {ns}: the probe process ended with {} and printed no result: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr[..out.stderr.len().min(300)]).trim()
            ))
        }),
    };
    // The lab keeps this log: which vantage point saw what.
    eprintln!(
        "vantage {ns}: {} {} {} -> {} {}",
        body["type"].as_str().unwrap_or("?"),
        body["target"].as_str().unwrap_or("?"),
        body["measurementOptions"],
        result["status"].as_str().unwrap_or("?"),
        result["rawOutput"]
            .as_str()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
    );
    result
}

/// One measurement made from where this process stands (the program's `probe` command, run in
/// a vantage namespace): the target is resolved through the system's resolv.conf, the
/// connection goes to the real address, nothing is scripted.
pub async fn probe_here(body: &Value) -> Value {
    let opts = &body["measurementOptions"];
    let target = body["target"].as_str().unwrap_or("");
    if body["type"] == "dns" {
        return dns_measure(target, opts, None).await;
    }
    let (_, port) = http_port(opts);
    let ip = match target.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match system_lookup(target, opts["ipVersion"].as_u64()).await {
            Ok(ip) => ip,
            Err(raw) => return failed(raw),
        },
    };
    http_measure(body, ip, SocketAddr::new(ip, port)).await
}

fn http_port(opts: &Value) -> (bool, u16) {
    let https = opts["protocol"] == "HTTPS";
    let port = opts["port"]
        .as_u64()
        .map(|p| p as u16)
        .unwrap_or(if https { 443 } else { 80 });
    (https, port)
}

/// The target's first address of the requested family (IPv4 unless `ipVersion` is 6, as the
/// API defaults), looked up through the resolvers in /etc/resolv.conf; failures in the words
/// of Node's getaddrinfo, as Globalping's probes print them.
async fn system_lookup(target: &str, version: Option<u64>) -> Result<IpAddr, String> {
    use hickory_proto::rr::{RData, RecordType};
    use hickory_resolver::name_server::TokioConnectionProvider;
    let (cfg, mut opts) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("getaddrinfo EAI_FAIL {target} (resolv.conf: {e})"))?;
    opts.timeout = PROBE_TIMEOUT;
    opts.attempts = 1;
    let resolver =
        hickory_resolver::Resolver::builder_with_config(cfg, TokioConnectionProvider::default())
            .with_options(opts)
            .build();
    let rtype = if version == Some(6) {
        RecordType::AAAA
    } else {
        RecordType::A
    };
    let name = format!("{}.", target.trim_end_matches('.'));
    let lookup = match tokio::time::timeout(PROBE_TIMEOUT * 2, resolver.lookup(name, rtype)).await {
        Err(_) => return Err(format!("getaddrinfo EAI_AGAIN {target}")),
        Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => {
            return Err(format!("getaddrinfo ENOTFOUND {target}"))
        }
        Ok(Err(e)) => return Err(format!("getaddrinfo EAI_AGAIN {target} ({e})")),
        Ok(Ok(l)) => l,
    };
    lookup
        .records()
        .iter()
        .find_map(|r| match r.data() {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .ok_or_else(|| format!("getaddrinfo ENOTFOUND {target}"))
}

/// A connect error in the words of Node's error codes, which Globalping's probes report.
fn connect_error(e: &std::io::Error, shown: SocketAddr) -> String {
    use std::io::ErrorKind;
    let code = match e.kind() {
        ErrorKind::ConnectionRefused => "ECONNREFUSED",
        ErrorKind::ConnectionReset => "ECONNRESET",
        ErrorKind::TimedOut => "ETIMEDOUT",
        ErrorKind::HostUnreachable => "EHOSTUNREACH",
        ErrorKind::NetworkUnreachable => "ENETUNREACH",
        _ => return format!("connect {e} {shown}"),
    };
    format!("connect {code} {shown}")
}

/// GET (or the requested method) `body`'s URL from `ip`, connecting to `addr` (the real
/// address, or a scripted fault's stand-in), within the probe's deadlines.
async fn http_measure(body: &Value, ip: IpAddr, addr: SocketAddr) -> Value {
    let opts = &body["measurementOptions"];
    let target = body["target"].as_str().unwrap_or("");
    let (https, port) = http_port(opts);
    let start = Instant::now();
    let shown = SocketAddr::new(ip, port);
    let tcp = match tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(addr)).await {
        Err(_) => return failed(format!("connect ETIMEDOUT {shown}")),
        Ok(Err(e)) => return failed(connect_error(&e, shown)),
        Ok(Ok(s)) => s,
    };
    let tcp_ms = start.elapsed().as_millis() as u64;
    let path = opts["request"]["path"].as_str().unwrap_or("/").to_string();
    let method = opts["request"]["method"]
        .as_str()
        .unwrap_or("HEAD")
        .to_string();
    let host = opts["request"]["host"]
        .as_str()
        .unwrap_or(target)
        .to_string();
    let fut = async {
        if https {
            let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert))
            .with_no_client_auth();
            let name = rustls::pki_types::ServerName::try_from(host.clone()).unwrap_or_else(|_| {
                rustls::pki_types::ServerName::try_from("localhost").expect("name")
            });
            let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            fetch(tls, &method, &host, &path).await
        } else {
            fetch(tcp, &method, &host, &path).await
        }
    };
    let (status, headers, body) = match tokio::time::timeout(PROBE_TIMEOUT * 2, fut).await {
        Err(_) => {
            return failed(format!(
                "Timeout awaiting 'response' for {} ms",
                PROBE_TIMEOUT.as_millis() * 2
            ))
        }
        Ok(Err(e)) => return failed(e),
        Ok(Ok(r)) => r,
    };
    let total = start.elapsed().as_millis() as u64;
    let truncated = body.len() > 10_000;
    let raw_body = String::from_utf8_lossy(&body[..body.len().min(10_000)]).into_owned();
    let mut hmap = serde_json::Map::new();
    let mut raw_headers = Vec::new();
    for (k, v) in &headers {
        hmap.insert(k.clone(), json!(v));
        raw_headers.push(format!("{k}: {v}"));
    }
    json!({"status": "finished", "resolvedAddress": ip.to_string(), "headers": hmap,
           "rawHeaders": raw_headers.join("\n"), "rawBody": raw_body, "truncated": truncated,
           "statusCode": status, "statusCodeName": hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or(""),
           "timings": {"total": total, "dns": 0, "tcp": tcp_ms, "tls": if https { json!(0) } else { Value::Null },
                       "firstByte": total, "download": 0},
           "tls": if https { json!({"authorized": false, "protocol": "TLSv1.3"}) } else { Value::Null },
           "rawOutput": format!("HTTP/1.1 {status}\n{}", raw_headers.join("\n"))})
}

type Fetched = (u16, Vec<(String, String)>, Vec<u8>);

async fn fetch<S>(s: S, method: &str, host: &str, path: &str) -> Result<Fetched, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
        .await
        .map_err(|e| format!("read ECONNRESET ({e})"))?;
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", host)
        .header(
            "User-Agent",
            "globalping probe (https://github.com/jsdelivr/globalping)",
        )
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("read ECONNRESET ({e})"))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = Limited::new(resp.into_body(), 64 * 1024)
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Ok((status, headers, body))
}

/// One DNS query to the request's resolver (or to `server`, a scripted fault's stand-in).
async fn dns_measure(target: &str, opts: &Value, server: Option<SocketAddr>) -> Value {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    use std::str::FromStr;
    let resolver: IpAddr = match opts["resolver"].as_str().and_then(|r| r.parse().ok()) {
        Some(r) => r,
        None => return json!({"status": "failed", "rawOutput": "no resolver"}),
    };
    let port = opts["port"].as_u64().unwrap_or(53) as u16;
    let server = server.unwrap_or(SocketAddr::new(resolver, port));
    let rtype = RecordType::from_str(opts["query"]["type"].as_str().unwrap_or("A"))
        .unwrap_or(RecordType::A);
    let Ok(name) = Name::from_str(&format!("{}.", target.trim_end_matches('.'))) else {
        return json!({"status": "failed", "rawOutput": "bad name"});
    };
    let mut msg = Message::new();
    msg.set_id(4242)
        .set_recursion_desired(false)
        .add_query(Query::query(name, rtype));
    let bytes = msg.to_vec().expect("query");
    let bind = if server.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let sock = UdpSocket::bind(bind).await.expect("udp");
    let start = Instant::now();
    let fail = |raw: String| json!({"status": "failed", "rawOutput": raw, "statusCode": null, "statusCodeName": null, "answers": [], "timings": {"total": null}, "resolver": resolver.to_string()});
    // Connected, so an ICMP port-unreachable comes back as "connection refused".
    if let Err(e) = sock.connect(server).await {
        return fail(format!(";; communications error to {resolver}#{port}: {e}"));
    }
    if let Err(e) = sock.send(&bytes).await {
        return fail(format!(";; communications error to {resolver}#{port}: {e}"));
    }
    let mut buf = vec![0u8; 4096];
    let n = match tokio::time::timeout(PROBE_TIMEOUT, sock.recv(&mut buf)).await {
        Err(_) => return fail(";; connection timed out; no servers could be reached".into()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return fail(format!(
                ";; communications error to {resolver}#{port}: connection refused"
            ))
        }
        Ok(Err(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable
            ) =>
        {
            return fail(format!(
                ";; communications error to {resolver}#{port}: host unreachable"
            ))
        }
        Ok(Err(e)) => return fail(format!(";; communications error: {e}")),
        Ok(Ok(n)) => n,
    };
    let Ok(resp) = Message::from_vec(&buf[..n]) else {
        return fail(";; Got bad packet".into());
    };
    let rcode = resp.response_code();
    let rname = match u16::from(rcode) {
        0 => "NOERROR".to_string(),
        2 => "SERVFAIL".to_string(),
        3 => "NXDOMAIN".to_string(),
        5 => "REFUSED".to_string(),
        n => format!("RCODE{n}"),
    };
    let answers: Vec<Value> = resp
        .answers()
        .iter()
        .map(|r| json!({"name": r.name().to_string(), "type": r.record_type().to_string(), "ttl": r.ttl(), "class": "IN", "value": r.data().to_string()}))
        .collect();
    json!({"status": "finished", "statusCode": u16::from(rcode), "statusCodeName": rname,
           "answers": answers, "timings": {"total": start.elapsed().as_millis() as u64},
           "resolver": resolver.to_string(), "rawOutput": format!(";; ->>HEADER<<- status: {rname}")})
}

#[derive(Debug)]
struct AnyCert;

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
