//! TCP connects with a deadline and an error that says what happened on the wire.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::net::TcpStream;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ConnectError {
    /// No SYN-ACK and no error before the deadline: something dropped the packets.
    #[error("timed out after {ms} ms (no answer: packets dropped)")]
    Timeout { ms: u64 },
    /// The peer or a firewall answered with a TCP reset.
    #[error("connection refused (TCP reset)")]
    Refused,
    /// No route, or an ICMP unreachable came back.
    #[error("unreachable: {message}")]
    Unreachable { message: String },
    /// The local stack refused (no address of this family, permission denied by local policy).
    #[error("local error: {message}")]
    Local { message: String },
}

impl ConnectError {
    pub fn label(&self) -> &'static str {
        match self {
            ConnectError::Timeout { .. } => "timeout",
            ConnectError::Refused => "refused",
            ConnectError::Unreachable { .. } => "unreachable",
            ConnectError::Local { .. } => "local",
        }
    }
}

pub fn classify(e: &io::Error) -> ConnectError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::Refused,
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            ConnectError::Unreachable {
                message: e.to_string(),
            }
        }
        io::ErrorKind::TimedOut => ConnectError::Timeout { ms: 0 },
        _ => match e.raw_os_error() {
            // EHOSTUNREACH, ENETUNREACH on Linux; also ICMP "admin prohibited" surfaces as these.
            Some(113) | Some(101) => ConnectError::Unreachable {
                message: e.to_string(),
            },
            _ => ConnectError::Local {
                message: e.to_string(),
            },
        },
    }
}

/// Connects within `deadline`; returns the stream and the time the handshake took.
pub async fn connect(
    addr: SocketAddr,
    deadline: Duration,
) -> Result<(TcpStream, Duration), ConnectError> {
    let start = Instant::now();
    match tokio::time::timeout(deadline, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectError::Timeout {
            ms: start.elapsed().as_millis() as u64,
        }),
        Ok(Err(e)) => Err(match classify(&e) {
            ConnectError::Timeout { .. } => ConnectError::Timeout {
                ms: start.elapsed().as_millis() as u64,
            },
            other => other,
        }),
        Ok(Ok(s)) => Ok((s, start.elapsed())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_on_closed_loopback_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let e = connect(addr, Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(e, ConnectError::Refused);
    }

    #[tokio::test]
    async fn connects_to_listener() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_, rtt) = connect(l.local_addr().unwrap(), Duration::from_secs(2))
            .await
            .unwrap();
        assert!(rtt < Duration::from_secs(2));
    }
}
