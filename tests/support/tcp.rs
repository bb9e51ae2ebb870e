//! TCP endpoints that misbehave on purpose.

use std::net::SocketAddr;

use socket2::{Domain, Socket, Type};

/// A listener whose accept queue is full, so further SYNs are dropped and connects time out,
/// as behind a firewall that drops packets. Keep the returned value alive for the test.
pub struct BlackHole {
    pub addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<std::net::TcpStream>,
}

impl BlackHole {
    pub fn bind(addr: &str) -> BlackHole {
        let addr: SocketAddr = addr.parse().expect("address");
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None).expect("socket");
        sock.bind(&addr.into()).expect("bind");
        sock.listen(0).expect("listen");
        let addr = sock.local_addr().expect("addr").as_socket().expect("inet");
        // With a backlog of 0 Linux queues one connection; once the queue is full new SYNs are
        // dropped. Fill it without ever accepting.
        let mut fillers = Vec::new();
        for _ in 0..2 {
            if let Ok(s) =
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300))
            {
                fillers.push(s);
            }
        }
        BlackHole {
            addr,
            _listener: sock,
            _fillers: fillers,
        }
    }
}

/// A port on `ip` where nothing listens (connects are refused with a reset).
pub fn closed_port(ip: &str) -> SocketAddr {
    let l = std::net::TcpListener::bind(format!("{ip}:0")).expect("bind");
    let a = l.local_addr().expect("addr");
    drop(l);
    a
}

/// Listeners on 127.0.0.1 and ::1 with the same port, accepting and holding connections.
pub async fn dual_stack_listener() -> (u16, tokio::task::JoinHandle<()>) {
    for _ in 0..20 {
        let v4 = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind v4");
        let port = v4.local_addr().expect("addr").port();
        if let Ok(v6) = tokio::net::TcpListener::bind(("::1", port)).await {
            let task = tokio::spawn(async move {
                loop {
                    tokio::select! {
                        Ok((s, _)) = v4.accept() => { tokio::spawn(async move { let _s = s; tokio::time::sleep(std::time::Duration::from_secs(30)).await; }); }
                        Ok((s, _)) = v6.accept() => { tokio::spawn(async move { let _s = s; tokio::time::sleep(std::time::Duration::from_secs(30)).await; }); }
                    }
                }
            });
            return (port, task);
        }
    }
    panic!("no port free on both 127.0.0.1 and ::1");
}
