//! ICMP echo (surge-ping) with the privilege situation made explicit: Linux allows unprivileged
//! ICMP datagram sockets only to groups in `net.ipv4.ping_group_range`; otherwise a raw socket
//! needs CAP_NET_RAW. Neither → we say exactly what would enable it.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use surge_ping::{Client, Config, PingIdentifier, PingSequence, SurgeError, ICMP};

#[derive(Debug, Clone, Serialize)]
pub struct PingStats {
    pub addr: IpAddr,
    pub sent: u32,
    pub received: u32,
    pub rtt_ms: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PingStats {
    pub fn loss_pct(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * (self.sent - self.received) as f64 / self.sent as f64
    }
    pub fn min_avg_max(&self) -> Option<(f64, f64, f64)> {
        if self.rtt_ms.is_empty() {
            return None;
        }
        let min = self.rtt_ms.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = self.rtt_ms.iter().cloned().fold(0.0, f64::max);
        let avg = self.rtt_ms.iter().sum::<f64>() / self.rtt_ms.len() as f64;
        Some((min, avg, max))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("ICMP sockets are not permitted: {message}")]
pub struct NotPermitted {
    pub message: String,
    /// The current `net.ipv4.ping_group_range`, when readable.
    pub ping_group_range: Option<String>,
}

/// The gid range allowed unprivileged ICMP sockets, as the kernel reports it.
pub fn ping_group_range() -> Option<String> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .ok()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Opens the ICMP client for one family (datagram socket first, raw socket second).
pub fn client(v6: bool) -> Result<Client, NotPermitted> {
    let cfg = Config::builder()
        .kind(if v6 { ICMP::V6 } else { ICMP::V4 })
        .build();
    Client::new(&cfg).map_err(|e| NotPermitted {
        message: e.to_string(),
        ping_group_range: ping_group_range(),
    })
}

/// Sends `count` echoes to `addr` at `interval`, each waiting up to `wait`.
pub async fn ping(
    client: &Client,
    addr: IpAddr,
    count: u16,
    interval: Duration,
    wait: Duration,
) -> PingStats {
    let ident = PingIdentifier(std::process::id() as u16 ^ (count.wrapping_mul(31)));
    let payload = [0u8; 56];
    let mut stats = PingStats {
        addr,
        sent: 0,
        received: 0,
        rtt_ms: Vec::new(),
        error: None,
    };
    let mut tasks = Vec::new();
    for seq in 0..count {
        // Each echo waits on its own so the whole run takes about count × interval + wait.
        tokio::time::sleep(if seq == 0 { Duration::ZERO } else { interval }).await;
        let mut p = client.pinger(addr, ident).await;
        p.timeout(wait);
        tasks.push(tokio::spawn(async move {
            p.ping(PingSequence(seq), &payload).await
        }));
        stats.sent += 1;
    }
    for t in tasks {
        match t.await {
            Ok(Ok((_, rtt))) => {
                stats.received += 1;
                stats.rtt_ms.push(rtt.as_secs_f64() * 1000.0);
            }
            Ok(Err(SurgeError::Timeout { .. })) => {}
            Ok(Err(e)) => stats.error = Some(e.to_string()),
            Err(e) => stats.error = Some(e.to_string()),
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_arithmetic() {
        let s = PingStats {
            addr: "192.0.2.1".parse().unwrap(),
            sent: 4,
            received: 3,
            rtt_ms: vec![1.0, 3.0, 2.0],
            error: None,
        };
        assert_eq!(s.loss_pct(), 25.0);
        assert_eq!(s.min_avg_max(), Some((1.0, 2.0, 3.0)));
    }

    #[tokio::test]
    async fn loopback_echo_when_permitted() {
        // Root or a permissive ping_group_range: loopback answers. Otherwise the error names
        // the sysctl, which is what the check reports.
        match client(false) {
            Ok(c) => {
                let s = ping(
                    &c,
                    "127.0.0.1".parse().unwrap(),
                    2,
                    Duration::from_millis(10),
                    Duration::from_secs(1),
                )
                .await;
                assert_eq!(s.received, 2, "{s:?}");
            }
            Err(e) => assert!(e.ping_group_range.is_some()),
        }
    }
}
