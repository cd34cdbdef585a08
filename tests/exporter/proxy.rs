//! A forward proxy on loopback, as a corporate egress proxy works: `CONNECT host:port` opens a
//! tunnel (for HTTPS), and a request in absolute form (`GET http://host/…`, for plain HTTP) is
//! forwarded to its host. Bytes are copied both ways unchanged; what went through is counted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
struct Counts {
    connects: AtomicU64,
    forwarded: AtomicU64,
    /// Every `host:port` a client asked for, in order.
    targets: Mutex<Vec<String>>,
}

pub struct Proxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, shared.clone()));
            }
        });
        Proxy { addr, counts, task }
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY` or `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tunnels opened with `CONNECT`.
    pub fn connects(&self) -> u64 {
        self.counts.connects.load(Ordering::SeqCst)
    }

    /// Connections that began with a request in absolute form.
    pub fn forwarded(&self) -> u64 {
        self.counts.forwarded.load(Ordering::SeqCst)
    }

    pub fn targets(&self) -> Vec<String> {
        self.counts.targets.lock().unwrap().clone()
    }
}

/// Reads the request head, connects to its target, and copies bytes until either side closes.
async fn tunnel(mut client: TcpStream, counts: Arc<Counts>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (authority, connect) = match method {
        "CONNECT" => (target.to_string(), true),
        _ => {
            // `http://host:port/path`: the authority is up to the next slash.
            let rest = target.strip_prefix("http://").unwrap_or(target);
            let authority = rest.split('/').next().unwrap_or("").to_string();
            (authority, false)
        }
    };
    counts.targets.lock().unwrap().push(authority.clone());
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if connect {
        counts.connects.fetch_add(1, Ordering::SeqCst);
        if client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else {
        // An HTTP/1.1 server takes the absolute form too: pass the head on as it came.
        counts.forwarded.fetch_add(1, Ordering::SeqCst);
        if upstream.write_all(&head).await.is_err() {
            return;
        }
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
