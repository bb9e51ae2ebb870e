//! TCP traceroute without privileges, the Linux way: one non-blocking TCP connect per probe
//! with a chosen TTL and `IP_RECVERR`, so the kernel queues the ICMP time-exceeded from the
//! router where the TTL ran out, with that router's address. A SYN-ACK (connected) or RST
//! (refused) means the destination was reached. Supported on Linux 5.8 and later; older kernels
//! report the error without the router's address, which we detect and say.

use std::io::IoSliceMut;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use serde::Serialize;
use socket2::{SockRef, Socket};

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProbeResult {
    /// A router sent ICMP time exceeded.
    Hop { from: IpAddr, rtt_us: u64 },
    /// The destination answered: SYN-ACK (`rst` false) or RST (`rst` true).
    Reached {
        from: IpAddr,
        rtt_us: u64,
        rst: bool,
    },
    /// An ICMP destination unreachable (type/code) from `from`.
    Unreachable {
        from: Option<IpAddr>,
        rtt_us: u64,
        icmp_type: u8,
        icmp_code: u8,
    },
    /// Nothing came back before the wait ran out.
    NoReply,
    /// The probe could not be sent.
    Error { message: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub ttl: u8,
    pub probes: Vec<ProbeResult>,
}

impl Hop {
    /// Distinct addresses that answered for this hop (several with ECMP).
    pub fn addrs(&self) -> Vec<IpAddr> {
        let mut v = Vec::new();
        for p in &self.probes {
            let a = match p {
                ProbeResult::Hop { from, .. } | ProbeResult::Reached { from, .. } => Some(*from),
                ProbeResult::Unreachable { from, .. } => *from,
                _ => None,
            };
            if let Some(a) = a {
                if !v.contains(&a) {
                    v.push(a);
                }
            }
        }
        v
    }

    pub fn rtts_ms(&self) -> Vec<f64> {
        self.probes
            .iter()
            .filter_map(|p| match p {
                ProbeResult::Hop { rtt_us, .. }
                | ProbeResult::Reached { rtt_us, .. }
                | ProbeResult::Unreachable { rtt_us, .. } => Some(*rtt_us as f64 / 1000.0),
                _ => None,
            })
            .collect()
    }

    pub fn answered(&self) -> bool {
        !self.addrs().is_empty()
    }

    pub fn reached(&self) -> bool {
        self.probes
            .iter()
            .any(|p| matches!(p, ProbeResult::Reached { .. }))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub target: SocketAddr,
    pub method: String,
    pub hops: Vec<Hop>,
    /// TTL at which the destination answered.
    pub reached_at: Option<u8>,
    pub elapsed_ms: u64,
}

impl Trace {
    /// The hop number of a router: the lowest TTL at which it answered anything.
    /// The reason no probe could be sent at all (every probe an error), if so.
    pub fn unsent(&self) -> Option<&str> {
        let mut reason = None;
        for p in self.hops.iter().flat_map(|h| &h.probes) {
            match p {
                ProbeResult::Error { message } => reason = Some(message.as_str()),
                _ => return None,
            }
        }
        reason
    }

    pub fn hop_of(&self, addr: IpAddr) -> Option<u8> {
        self.hops
            .iter()
            .find(|h| h.addrs().contains(&addr))
            .map(|h| h.ttl)
    }

    /// The last hop that answered before the destination (or before silence).
    pub fn last_answer(&self) -> Option<&Hop> {
        self.hops
            .iter()
            .rev()
            .find(|h| h.answered() && !h.reached())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TraceOptions {
    pub max_hops: u8,
    pub probes_per_hop: u8,
    /// How long each probe waits for an answer.
    pub wait: Duration,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            max_hops: 30,
            probes_per_hop: 3,
            wait: Duration::from_secs(2),
        }
    }
}

/// TTLs probed at once in the first wave: enough for most Internet paths, and it keeps the
/// number of SYNs that reach the destination itself small.
const FIRST_WAVE: u8 = 16;

/// Traces the path to `target`. Every TTL of a wave is probed at once, so a trace takes about
/// one probe wait, not hops × wait; a second wave (TTL 17 and up) runs only when the first
/// neither reached the destination nor went silent early.
pub async fn trace(target: SocketAddr, opts: TraceOptions) -> Trace {
    let start = Instant::now();
    let max = opts.max_hops.max(1);
    let mut hops = wave(target, 1, max.min(FIRST_WAVE), opts).await;
    let reached = hops.iter().any(|h| h.reached());
    let deepest = hops
        .iter()
        .rev()
        .find(|h| h.answered())
        .map(|h| h.ttl)
        .unwrap_or(0);
    let second_wave = !reached && max > FIRST_WAVE && deepest + 4 >= FIRST_WAVE;
    if second_wave {
        hops.extend(wave(target, FIRST_WAVE + 1, max, opts).await);
    }
    let reached_at = hops.iter().find(|h| h.reached()).map(|h| h.ttl);
    // Past the first TTL that reached the destination it is the destination again; past the
    // last answer plus one there is only silence.
    // A router that rejects with ICMP unreachable ends the path as well: every higher TTL only
    // hears the same rejection (or nothing, once the router rate-limits its ICMP).
    let mut rejected_at = first_rejection(&hops);
    if let (Some(r), false, None) = (rejected_at, second_wave, reached_at) {
        // A rejecting router answers every TTL past it, so a wave costs it many ICMP messages
        // and its rate limit (Linux: a burst of six per peer, then one a second) can silence
        // the hops before it, the router's own time-exceeded included: it would look further
        // away than it is. Once the limit has refilled a little, ask the silent hops below it
        // again, lowest first.
        let silent: Vec<u8> = hops
            .iter()
            .filter(|h| h.ttl < r && !h.answered())
            .map(|h| h.ttl)
            .collect();
        if !silent.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let again: Vec<_> = silent
                .iter()
                .enumerate()
                .map(|(i, &ttl)| {
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(2 * i as u64)).await;
                        (ttl, probe(target, ttl, opts.wait).await)
                    })
                })
                .collect();
            for t in again {
                if let Ok((ttl, r)) = t.await {
                    if let Some(h) = hops.iter_mut().find(|h| h.ttl == ttl) {
                        h.probes.push(r);
                    }
                }
            }
            rejected_at = first_rejection(&hops);
        }
    }
    let last = reached_at
        .or(rejected_at)
        .or_else(|| hops.iter().rev().find(|h| h.answered()).map(|h| h.ttl + 1))
        .unwrap_or(1);
    hops.truncate(last.min(max) as usize);
    Trace {
        target,
        method: "tcp-syn, IP_RECVERR (unprivileged)".into(),
        hops,
        reached_at,
        elapsed_ms: start.elapsed().as_millis() as u64,
    }
}

fn first_rejection(hops: &[Hop]) -> Option<u8> {
    hops.iter()
        .find(|h| {
            h.probes
                .iter()
                .any(|p| matches!(p, ProbeResult::Unreachable { .. }))
        })
        .map(|h| h.ttl)
}

async fn wave(target: SocketAddr, first: u8, last: u8, opts: TraceOptions) -> Vec<Hop> {
    let mut tasks = Vec::new();
    for ttl in first..=last {
        for n in 0..opts.probes_per_hop.max(1) {
            tasks.push((
                ttl,
                tokio::spawn(async move {
                    // Spread each hop's probes a little so a router's ICMP rate limit (a burst
                    // of about six per peer on Linux) does not eat all of them, and send the
                    // lower TTLs first: the nearest routers get the burst.
                    let delay = 40 * n as u64 + 2 * u64::from(ttl - first);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    probe(target, ttl, opts.wait).await
                }),
            ));
        }
    }
    let mut hops: Vec<Hop> = (first..=last)
        .map(|ttl| Hop {
            ttl,
            probes: Vec::new(),
        })
        .collect();
    for (ttl, t) in tasks {
        let r = t.await.unwrap_or_else(|e| ProbeResult::Error {
            message: e.to_string(),
        });
        hops[(ttl - first) as usize].probes.push(r);
    }
    hops
}

/// One TCP SYN with the given TTL.
pub async fn probe(target: SocketAddr, ttl: u8, wait: Duration) -> ProbeResult {
    match probe_inner(target, ttl, wait).await {
        Ok(r) => r,
        Err(e) => ProbeResult::Error {
            message: e.to_string(),
        },
    }
}

async fn probe_inner(target: SocketAddr, ttl: u8, wait: Duration) -> std::io::Result<ProbeResult> {
    let sock = if target.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    let opts = SockRef::from(&sock);
    if target.is_ipv4() {
        opts.set_ttl_v4(ttl as u32)?;
        setsockopt(&sock, sockopt::Ipv4RecvErr, &true)?;
    } else {
        opts.set_unicast_hops_v6(ttl as u32)?;
        setsockopt(&sock, sockopt::Ipv6RecvErr, &true)?;
    }
    // A second descriptor for the same socket: connect() consumes the first, and the ICMP
    // report stays on the socket's error queue.
    let errq = opts.try_clone()?;
    let start = Instant::now();
    Ok(
        match tokio::time::timeout(wait, sock.connect(target)).await {
            Ok(Ok(_stream)) => ProbeResult::Reached {
                from: target.ip(),
                rtt_us: start.elapsed().as_micros() as u64,
                rst: false,
            },
            Ok(Err(e)) => classify(&errq, target, Some(e), start),
            Err(_) => match read_errqueue(&errq, target.is_ipv4()) {
                Some(r) => with_rtt(r, start),
                None => ProbeResult::NoReply,
            },
        },
    )
}

fn with_rtt(r: ProbeResult, start: Instant) -> ProbeResult {
    let rtt = start.elapsed().as_micros() as u64;
    match r {
        ProbeResult::Hop { from, .. } => ProbeResult::Hop { from, rtt_us: rtt },
        ProbeResult::Unreachable {
            from,
            icmp_type,
            icmp_code,
            ..
        } => ProbeResult::Unreachable {
            from,
            rtt_us: rtt,
            icmp_type,
            icmp_code,
        },
        other => other,
    }
}

fn classify(
    sock: &Socket,
    target: SocketAddr,
    err: Option<std::io::Error>,
    start: Instant,
) -> ProbeResult {
    let rtt_us = start.elapsed().as_micros() as u64;
    if let Some(r) = read_errqueue(sock, target.is_ipv4()) {
        return with_rtt(r, start);
    }
    match err {
        None => ProbeResult::Reached {
            from: target.ip(),
            rtt_us,
            rst: false,
        },
        Some(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => ProbeResult::Reached {
            from: target.ip(),
            rtt_us,
            rst: true,
        },
        // No route on this host: connect() fails before anything is sent, with no report.
        Some(e) if e.raw_os_error() == Some(libc::ENETUNREACH) && rtt_us < 1_000 => {
            ProbeResult::Error {
                message: format!(
                    "{e}: this host has no route to {}, so nothing was sent",
                    target.ip()
                ),
            }
        }
        Some(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH)
            ) =>
        {
            // An ICMP error without a queued report: a kernel older than 5.8.
            ProbeResult::Unreachable {
                from: None,
                rtt_us,
                icmp_type: 0,
                icmp_code: 0,
            }
        }
        Some(e) => ProbeResult::Error {
            message: e.to_string(),
        },
    }
}

/// Reads one ICMP report from the socket's error queue, if any.
fn read_errqueue(sock: &Socket, v4: bool) -> Option<ProbeResult> {
    let mut data = [0u8; 256];
    let mut iov = [IoSliceMut::new(&mut data)];
    let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    let msg = recvmsg::<SockaddrStorage>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
    )
    .ok()?;
    for c in msg.cmsgs().ok()? {
        let (ee, from) = match c {
            ControlMessageOwned::Ipv4RecvErr(ee, from) => (
                ee,
                from.map(|a| IpAddr::V4(std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)))),
            ),
            ControlMessageOwned::Ipv6RecvErr(ee, from) => (
                ee,
                from.map(|a| IpAddr::V6(std::net::Ipv6Addr::from(a.sin6_addr.s6_addr))),
            ),
            _ => continue,
        };
        let icmp = if v4 {
            libc::SO_EE_ORIGIN_ICMP
        } else {
            libc::SO_EE_ORIGIN_ICMP6
        };
        if ee.ee_origin != icmp {
            continue;
        }
        // ICMPv4 time exceeded is type 11, ICMPv6 type 3; unreachable is 3 and 1.
        let time_exceeded = if v4 {
            ee.ee_type == 11
        } else {
            ee.ee_type == 3
        };
        return Some(match (time_exceeded, from) {
            (true, Some(from)) => ProbeResult::Hop { from, rtt_us: 0 },
            _ => ProbeResult::Unreachable {
                from,
                rtt_us: 0,
                icmp_type: ee.ee_type,
                icmp_code: ee.ee_code,
            },
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_listener_is_reached_at_ttl_1() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let t = trace(
            l.local_addr().unwrap(),
            TraceOptions {
                max_hops: 5,
                probes_per_hop: 2,
                wait: Duration::from_secs(1),
            },
        )
        .await;
        assert_eq!(t.reached_at, Some(1));
        assert_eq!(t.hops.len(), 1);
        assert!(t.hops[0].reached());
    }

    #[tokio::test]
    async fn closed_port_is_reached_by_rst() {
        let port = std::net::TcpListener::bind("[::1]:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let r = probe(port, 4, Duration::from_secs(1)).await;
        assert!(matches!(r, ProbeResult::Reached { rst: true, .. }), "{r:?}");
    }

    #[test]
    fn hop_bookkeeping() {
        let h = Hop {
            ttl: 3,
            probes: vec![
                ProbeResult::Hop {
                    from: "192.0.2.1".parse().unwrap(),
                    rtt_us: 1500,
                },
                ProbeResult::NoReply,
                ProbeResult::Hop {
                    from: "192.0.2.2".parse().unwrap(),
                    rtt_us: 2500,
                },
                ProbeResult::Hop {
                    from: "192.0.2.1".parse().unwrap(),
                    rtt_us: 1000,
                },
            ],
        };
        assert_eq!(h.addrs().len(), 2, "ECMP: two routers at one TTL");
        assert_eq!(h.rtts_ms(), vec![1.5, 2.5, 1.0]);
        assert!(h.answered() && !h.reached());
        let t = Trace {
            target: "192.0.2.9:443".parse().unwrap(),
            method: String::new(),
            hops: vec![
                h,
                Hop {
                    ttl: 4,
                    probes: vec![ProbeResult::NoReply],
                },
            ],
            reached_at: None,
            elapsed_ms: 0,
        };
        assert_eq!(t.last_answer().unwrap().ttl, 3);
    }
}
