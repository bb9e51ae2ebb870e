//! Globalping (jsdelivr/globalping) client: create a measurement with `POST /v1/measurements`,
//! then poll `GET /v1/measurements/{id}` as the API's guidelines ask (wait 500 ms after each
//! answer while the status is `in-progress`, send If-None-Match). Every request and the whole
//! measurement are bounded; the token (GLOBALPING_TOKEN) goes only into the Authorization header.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use url::Url;

use super::{
    Backend, BackendError, Failure, Locations, Measurement, Place, ProbeOutcome, ProbeResult,
    Request,
};
use crate::engine::BoxFuture;

/// The guidelines' polling interval.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A measurement of 50 probes with 10 kB bodies is about 1 MB; more is not an answer.
const BODY_CAP: usize = 4 << 20;

pub struct Globalping {
    client: reqwest::Client,
    base: Url,
    token: Option<String>,
    /// Per API request.
    request_timeout: Duration,
    /// For one measurement, creation to last poll.
    budget: Duration,
}

impl Globalping {
    pub fn new(
        base: Url,
        token: Option<String>,
        roots: rustls::RootCertStore,
        request_timeout: Duration,
        budget: Duration,
    ) -> Result<Globalping, BackendError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| BackendError::Unreachable {
                message: format!("TLS configuration: {e}"),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(request_timeout)
            .timeout(request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // The guidelines ask clients to identify themselves.
            .user_agent(concat!("acme-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Unreachable {
                message: format!("HTTP client: {e}"),
            })?;
        let mut base = base;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        Ok(Globalping {
            client,
            base,
            token,
            request_timeout,
            budget,
        })
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends a request and reads a bounded body.
    async fn send(
        &self,
        r: reqwest::RequestBuilder,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), BackendError> {
        let secs = self.request_timeout.as_secs().max(1);
        let fut = async {
            let mut resp = self.auth(r).send().await.map_err(|e| self.error(e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.error(e))? {
                if body.len() + chunk.len() > BODY_CAP {
                    return Err(BackendError::Malformed {
                        message: format!("answer larger than {} bytes", BODY_CAP),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, headers, body))
        };
        match tokio::time::timeout(self.request_timeout + Duration::from_millis(250), fut).await {
            Ok(r) => r,
            Err(_) => Err(BackendError::Timeout { secs }),
        }
    }

    fn error(&self, e: reqwest::Error) -> BackendError {
        if e.is_timeout() {
            return BackendError::Timeout {
                secs: self.request_timeout.as_secs().max(1),
            };
        }
        // reqwest's Display hides the cause; the source chain says what failed (refused, DNS,
        // certificate). It never contains the Authorization header.
        let mut message = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        BackendError::Unreachable { message }
    }

    fn body(req: &Request, locations: &Locations) -> Value {
        let locations = match locations {
            Locations::Spread(l) => json!(l),
            Locations::Same(id) => json!(id),
        };
        match req {
            Request::Http {
                target,
                https,
                port,
                path,
                ip_version,
            } => {
                let mut options = json!({
                    // The API defaults to HEAD over HTTPS; the CA GETs over HTTP.
                    "request": {"method": "GET", "path": path},
                    "protocol": if *https { "HTTPS" } else { "HTTP" },
                    "port": port,
                });
                if let Some(v) = ip_version {
                    options["ipVersion"] = json!(v);
                }
                json!({"type": "http", "target": target, "locations": locations,
                       "measurementOptions": options})
            }
            Request::Dns {
                name,
                rtype,
                server,
                port,
            } => json!({"type": "dns", "target": name, "locations": locations,
                "measurementOptions": {"query": {"type": rtype}, "resolver": server.to_string(),
                                       "port": port, "protocol": "UDP"}}),
        }
    }

    async fn create(&self, body: &Value) -> Result<String, BackendError> {
        let url = self.base.join("measurements").expect("relative URL");
        let (status, headers, bytes) = self
            .send(
                self.client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string()),
            )
            .await?;
        if status == 202 || status == 200 {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| BackendError::Malformed {
                message: format!("create answer: {e}"),
            })?;
            return v["id"]
                .as_str()
                .filter(|id| !id.is_empty() && id.len() < 200)
                .map(str::to_string)
                .ok_or_else(|| BackendError::Malformed {
                    message: "create answer without an id".into(),
                });
        }
        Err(self.api_error(status, &headers, &bytes))
    }

    fn api_error(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> BackendError {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let kind = v["error"]["type"].as_str().unwrap_or("").to_string();
        let mut message: String = v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        if message.is_empty() {
            message = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        }
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        match status {
            400 => {
                if let Some(p) = v["error"]["params"].as_object() {
                    let params: Vec<String> = p
                        .iter()
                        .take(5)
                        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string())))
                        .collect();
                    if !params.is_empty() {
                        message = format!("{message} ({})", params.join("; "));
                    }
                }
                BackendError::Invalid {
                    error_type: kind,
                    message,
                }
            }
            422 => BackendError::NoProbes { message },
            429 => BackendError::RateLimited {
                limit: num("x-ratelimit-limit"),
                remaining: num("x-ratelimit-remaining"),
                reset_secs: num("x-ratelimit-reset").or_else(|| num("retry-after")),
                authenticated: self.token.is_some(),
                message: if kind.is_empty() {
                    message
                } else {
                    format!("{kind}: {message}")
                },
            },
            _ => BackendError::Status { status, message },
        }
    }

    async fn poll(&self, id: &str, until: tokio::time::Instant) -> Result<Value, BackendError> {
        let url = self
            .base
            .join(&format!("measurements/{}", urlencode(id)))
            .expect("relative URL");
        let mut etag: Option<String> = None;
        let mut last: Option<Value> = None;
        loop {
            let mut r = self.client.get(url.clone());
            if let Some(e) = &etag {
                r = r.header(reqwest::header::IF_NONE_MATCH, e);
            }
            let (status, headers, body) = self.send(r).await?;
            match status {
                200 => {
                    let v: Value =
                        serde_json::from_slice(&body).map_err(|e| BackendError::Malformed {
                            message: format!("measurement {id}: {e}"),
                        })?;
                    etag = headers
                        .get(reqwest::header::ETAG)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    if v["status"].as_str() != Some("in-progress") {
                        return Ok(v);
                    }
                    last = Some(v);
                }
                304 if last.is_some() => {}
                429 => {
                    // Polling too fast; Retry-After says for how long.
                    let wait = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(1)
                        .min(10);
                    if tokio::time::Instant::now() + Duration::from_secs(wait) >= until {
                        return Err(self.api_error(status, &headers, &body));
                    }
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                    continue;
                }
                _ => return Err(self.api_error(status, &headers, &body)),
            }
            if tokio::time::Instant::now() + POLL_INTERVAL >= until {
                // Out of budget: what finished counts, the rest is "no result in time".
                return last.ok_or(BackendError::Timeout {
                    secs: self.budget.as_secs(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

fn urlencode(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

impl Backend for Globalping {
    fn name(&self) -> &'static str {
        "Globalping"
    }

    fn endpoint(&self) -> String {
        // Without any user:password or query a custom URL may carry.
        let mut u = self.base.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_query(None);
        u.to_string()
    }

    fn measure<'a>(
        &'a self,
        req: &'a Request,
        locations: &'a Locations,
    ) -> BoxFuture<'a, Result<Measurement, BackendError>> {
        Box::pin(async move {
            let until = tokio::time::Instant::now() + self.budget;
            let id = self.create(&Self::body(req, locations)).await?;
            let v = self.poll(&id, until).await?;
            Ok(parse_measurement(&id, &v))
        })
    }
}

/// Reads a measurement answer leniently: a missing field is empty, never a panic.
pub fn parse_measurement(id: &str, v: &Value) -> Measurement {
    let probes = v["results"]
        .as_array()
        .map(|a| a.iter().take(500).map(parse_result).collect())
        .unwrap_or_default();
    Measurement {
        id: id.to_string(),
        probes,
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").chars().take(100).collect()
}

fn parse_result(r: &Value) -> ProbeOutcome {
    let p = &r["probe"];
    let place = Place {
        continent: text(&p["continent"]),
        region: text(&p["region"]),
        country: text(&p["country"]),
        state: p["state"].as_str().map(|s| s.chars().take(100).collect()),
        city: text(&p["city"]),
        asn: p["asn"].as_u64().unwrap_or(0) as u32,
        network: text(&p["network"]),
        latitude: p["latitude"].as_f64().unwrap_or(0.0),
        longitude: p["longitude"].as_f64().unwrap_or(0.0),
        tags: p["tags"]
            .as_array()
            .map(|t| t.iter().take(20).map(text).collect())
            .unwrap_or_default(),
    };
    let res = &r["result"];
    let raw: String = res["rawOutput"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let ms = res["timings"]["total"].as_f64().map(|t| t.max(0.0) as u64);
    let result = match res["status"].as_str() {
        Some("finished") if res["statusCode"].is_u64() && res.get("answers").is_none() => {
            let header = |name: &str| match &res["headers"][name] {
                Value::String(s) => Some(s.chars().take(300).collect()),
                Value::Array(a) => a.first().map(text),
                _ => None,
            };
            ProbeResult::Http {
                status: res["statusCode"].as_u64().unwrap_or(0).min(999) as u16,
                location: header("location"),
                server: header("server"),
                address: res["resolvedAddress"].as_str().map(str::to_string),
                ms,
            }
        }
        Some("finished") if res.get("answers").is_some() || res.get("statusCodeName").is_some() => {
            ProbeResult::Dns {
                rcode: text(&res["statusCodeName"]),
                answers: res["answers"]
                    .as_array()
                    .map(|a| a.iter().take(50).map(|x| text(&x["value"])).collect())
                    .unwrap_or_default(),
                ms,
            }
        }
        Some("finished") | Some("failed") => ProbeResult::Failed {
            failure: classify(&raw),
            message: raw,
        },
        Some("offline") => ProbeResult::Offline,
        _ => ProbeResult::Unfinished,
    };
    ProbeOutcome { place, result }
}

/// Globalping reports a probe's failure only as text (Node's error codes for HTTP, dig's
/// messages for DNS); there is no typed field, so this matches the codes those tools print.
pub fn classify(raw: &str) -> Failure {
    let r = raw.to_ascii_lowercase();
    if r.contains("econnrefused") || r.contains("connection refused") {
        Failure::Refused
    } else if r.contains("econnreset")
        || r.contains("socket hang up")
        || r.contains("reset by peer")
    {
        Failure::Reset
    } else if r.contains("etimedout") || r.contains("timeout") || r.contains("timed out") {
        Failure::Timeout
    } else if r.contains("ehostunreach") || r.contains("enetunreach") || r.contains("unreachable") {
        Failure::Unreachable
    } else if r.contains("enotfound") || r.contains("eai_again") || r.contains("enodata") {
        Failure::Dns
    } else if r.contains("tls") || r.contains("ssl") || r.contains("certificate") {
        Failure::Tls
    } else {
        Failure::Other
    }
}

/// Explains a rate-limit or no-probes answer with what to do.
pub fn advice(e: &BackendError) -> &'static str {
    match e {
        BackendError::RateLimited { authenticated: false, .. } => {
            "wait until the limit resets, or create a free token at https://dash.globalping.io/tokens and set GLOBALPING_TOKEN (more tests per hour)"
        }
        BackendError::RateLimited { .. } => {
            "wait until the limit resets, or add credits to the token's account at https://dash.globalping.io"
        }
        BackendError::NoProbes { .. } => {
            "use broader --from locations (a continent or a country instead of a city or ASN), or a smaller --perspectives"
        }
        BackendError::Invalid { .. } => "check the --from locations and --globalping-url",
        _ => "retry later, or run with --perspectives off",
    }
}

#[cfg(test)]
mod tests {
    use super::super::Location;
    use super::*;

    #[test]
    fn failures_from_probe_text() {
        assert_eq!(
            classify("connect ECONNREFUSED 1.2.3.4:80"),
            Failure::Refused
        );
        assert_eq!(classify("connect ETIMEDOUT 1.2.3.4:80"), Failure::Timeout);
        assert_eq!(
            classify("Timeout awaiting 'request' for 10000ms"),
            Failure::Timeout
        );
        assert_eq!(classify("read ECONNRESET"), Failure::Reset);
        assert_eq!(classify("getaddrinfo ENOTFOUND x.example"), Failure::Dns);
        assert_eq!(
            classify(";; connection timed out; no servers could be reached"),
            Failure::Timeout
        );
        assert_eq!(classify("???"), Failure::Other);
    }

    #[test]
    fn lenient_parse() {
        let v = json!({"status": "finished", "results": [
            {"probe": {"country": "DE", "asn": 3320, "city": "Berlin"},
             "result": {"status": "finished", "statusCode": 404, "headers": {"server": ["nginx"]},
                        "timings": {"total": 12.5}}},
            {"probe": {}, "result": {"status": "failed", "rawOutput": "connect ECONNREFUSED"}},
            {"probe": {}, "result": {"status": "finished", "statusCodeName": "NOERROR",
                                     "answers": [{"value": "\"x\""}]}},
            {"probe": 3, "result": null}
        ]});
        let m = parse_measurement("m1", &v);
        assert_eq!(m.probes.len(), 4);
        assert!(
            matches!(&m.probes[0].result, ProbeResult::Http { status: 404, server: Some(s), ms: Some(12), .. } if s == "nginx")
        );
        assert!(matches!(
            m.probes[1].result,
            ProbeResult::Failed {
                failure: Failure::Refused,
                ..
            }
        ));
        assert!(
            matches!(&m.probes[2].result, ProbeResult::Dns { rcode, .. } if rcode == "NOERROR")
        );
        assert_eq!(m.probes[3].result, ProbeResult::Unfinished);
    }

    #[test]
    fn request_bodies() {
        let b = Globalping::body(
            &Request::Http {
                target: "a.example".into(),
                https: false,
                port: 80,
                path: "/.well-known/acme-challenge/x".into(),
                ip_version: Some(6),
            },
            &Locations::Spread(vec![Location {
                magic: None,
                country: Some("DE".into()),
                limit: 2,
            }]),
        );
        assert_eq!(b["measurementOptions"]["protocol"], "HTTP");
        assert_eq!(b["measurementOptions"]["request"]["method"], "GET");
        assert_eq!(b["measurementOptions"]["ipVersion"], 6);
        assert_eq!(b["locations"][0]["country"], "DE");
        let b = Globalping::body(
            &Request::Dns {
                name: "_acme-challenge.a.example".into(),
                rtype: "TXT",
                server: "192.0.2.1".parse().unwrap(),
                port: 53,
            },
            &Locations::Same("abc".into()),
        );
        assert_eq!(b["locations"], "abc");
        assert_eq!(b["measurementOptions"]["resolver"], "192.0.2.1");
    }
}
