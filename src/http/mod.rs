//! The HTTP side: `/metrics` from the current snapshot, a landing page, health, readiness and
//! reload, optionally behind TLS and basic auth (`--web.config.file`).
//!
//! hyper 1.x through hyper-util, HTTP/1.1 and HTTP/2. Bounded everywhere a client could hold
//! it up: open connections, concurrent scrapes, the time to send request headers or finish a
//! TLS handshake, and idle keep-alive connections. Shutdown stops accepting and gives open
//! connections a bounded grace period.

mod body;
#[cfg(test)]
mod contract_tests;
mod routes;
pub mod web_config;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, warn};

pub use body::Chunks;
pub use routes::{check_telemetry_path, ReloadHandler, Site};
use web_config::{HttpSettings, WebConfigWatch};

/// How long a client may take to send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a TLS handshake may take.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open in all: a scrape takes far less, and Prometheus opens a
/// new connection when one is closed.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(300);
/// Open connections at most; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections kept for other peers: one IP address may hold at most the rest, so a client
/// that opens and holds many (silent ones take [`HEADER_READ_TIMEOUT`] to close) leaves room
/// for scrapes from everyone else.
pub const RESERVED_FOR_OTHER_PEERS: usize = 64;
/// Open connections from one IP address at most.
pub const MAX_CONNECTIONS_PER_PEER: usize = MAX_CONNECTIONS - RESERVED_FOR_OTHER_PEERS;
/// How long open connections get to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves `site` on `listener` until `shutdown` completes, then drains within
/// [`SHUTDOWN_GRACE`]. `web_config` is loaded first: a bad one is an error before serving.
pub async fn serve(
    listener: TcpListener,
    site: Arc<Site>,
    web_config: Option<PathBuf>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let web = Arc::new(WebConfigWatch::new(web_config)?);
    let builder = Arc::new(connection_builder());
    let (stop, stopping) = watch::channel(false);
    let mut open = JoinSet::new();
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let peers = PeerCounts::default();
    tokio::pin!(shutdown);
    loop {
        while open.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(peer_slot) = peers.admit(peer.ip()) else {
            debug!(%peer, limit = MAX_CONNECTIONS_PER_PEER, "too many connections from this peer; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let settings = web.settings();
        let site = Arc::new(site.with_auth(settings.users.clone()));
        let http = settings.http.clone();
        let (builder, stopping) = (builder.clone(), stopping.clone());
        open.spawn(async move {
            let _permit = (permit, peer_slot);
            match settings.tls {
                // hyper's header timeout starts with the first byte: a client that connects
                // and says nothing is closed here instead of holding a connection forever.
                None => match tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut [0u8; 1]))
                    .await
                {
                    Ok(Ok(1..)) => {
                        serve_connection(stream, site, http, &builder, stopping, peer).await
                    }
                    _ => debug!(%peer, "client sent nothing; closing"),
                },
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls)) => {
                            serve_connection(tls, site, http, &builder, stopping, peer).await
                        }
                        Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    crate::memory::give_back();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while open.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period; closing them");
        open.abort_all();
    }
    Ok(())
}

/// How every connection is served: HTTP/1.1 with keep-alive and a header timeout, or HTTP/2.
pub(crate) fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(32);
    builder
}

/// Open connections per peer address; a slot frees itself when dropped, and an address with
/// none left is forgotten.
#[derive(Debug, Clone, Default)]
struct PeerCounts(Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>);

struct PeerSlot {
    counts: PeerCounts,
    ip: IpAddr,
}

impl PeerCounts {
    fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let open = counts.entry(ip).or_default();
        if *open >= MAX_CONNECTIONS_PER_PEER {
            return None;
        }
        *open += 1;
        Some(PeerSlot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        let emptied = counts.get_mut(&self.ip).is_some_and(|n| {
            *n -= 1;
            *n == 0
        });
        if emptied {
            counts.remove(&self.ip);
            // The last connection of a burst from this peer: return its buffers to the system.
            if counts.is_empty() {
                crate::memory::give_back();
            }
        }
    }
}

/// Serves one connection until the client is done, shutdown starts, or it reaches
/// [`MAX_CONNECTION_AGE`]; the last two end it gracefully, after the response in progress.
/// From that age on every response says `Connection: close`, so a client never sends a new
/// request on a connection the server is about to close.
/// `http` is the web config's rate limit and response headers, for every response.
pub(crate) async fn serve_connection<I>(
    io: I,
    site: Arc<Site>,
    http: Arc<HttpSettings>,
    builder: &auto::Builder<TokioExecutor>,
    mut stopping: watch::Receiver<bool>,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let opened = tokio::time::Instant::now();
    let service = service_fn(move |request| {
        let (site, http) = (site.clone(), http.clone());
        async move {
            let mut response = if http.admits_request() {
                site.handle(request).await
            } else {
                too_many_requests()
            };
            http.add_headers(response.headers_mut());
            if opened.elapsed() >= MAX_CONNECTION_AGE {
                response.headers_mut().insert(
                    hyper::header::CONNECTION,
                    hyper::header::HeaderValue::from_static("close"),
                );
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
        // Idle past the age and a header timeout more: a client that kept it open meanwhile
        // was told to close it on its last response. HTTP/2's graceful close waits for the
        // client to acknowledge it (a PING), which a dead or hostile client never does: it
        // gets SHUTDOWN_GRACE, then the connection is dropped.
        () = tokio::time::sleep(MAX_CONNECTION_AGE + HEADER_READ_TIMEOUT) => {
            connection.as_mut().graceful_shutdown();
            match tokio::time::timeout(SHUTDOWN_GRACE, connection).await {
                Ok(result) => result,
                Err(_) => Err("the client did not close the connection; dropped".into()),
            }
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// What a request over the web config's `rate_limit` gets, as in exporter-toolkit.
fn too_many_requests() -> hyper::Response<Chunks> {
    let mut response = hyper::Response::new(Chunks::text(bytes::Bytes::from_static(
        b"Too Many Requests\n",
    )));
    *response.status_mut() = hyper::StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A `--web.listen-address` as the user wrote it, checked before anything binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    /// Exactly what the user typed, for messages.
    pub text: String,
    host: ListenHost,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ListenHost {
    /// `:port`: every interface, IPv4 and IPv6.
    Every,
    Ip(IpAddr),
    /// A name to resolve when binding, like `localhost`.
    Name(String),
}

impl ListenAddress {
    /// `host:port`, `[ipv6]:port`, or `:port` for every interface; the error quotes `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: &str| format!("--web.listen-address={text:?} is not valid: {why}");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (ip, port) = rest
                .split_once("]:")
                .ok_or_else(|| invalid("write an IPv6 address as [::1]:9887"))?;
            let ip: Ipv6Addr = ip
                .parse()
                .map_err(|_| invalid(&format!("{ip:?} is not an IPv6 address")))?;
            (ListenHost::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or_else(|| {
                invalid("a port is missing: write host:port, or :port for every interface")
            })?;
            (Self::host(host).map_err(|why| invalid(&why))?, port)
        };
        let port = Self::port(port).map_err(|why| invalid(&why))?;
        Ok(Self {
            text: text.to_string(),
            host,
            port,
        })
    }

    fn host(host: &str) -> Result<ListenHost, String> {
        if host.is_empty() {
            return Ok(ListenHost::Every);
        }
        if host.contains(':') {
            return Err("write an IPv6 address in brackets, as [::1]:9887".into());
        }
        if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return host
                .parse::<Ipv4Addr>()
                .map(|ip| ListenHost::Ip(IpAddr::V4(ip)))
                .map_err(|_| format!("{host:?} is not an IPv4 address"));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.len() > 253 || !host.trim_end_matches('.').split('.').all(label_ok) {
            return Err(format!("{host:?} is not a host name or IP address"));
        }
        Ok(ListenHost::Name(host.to_string()))
    }

    fn port(port: &str) -> Result<u16, String> {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the port {port:?} is not a number from 0 to 65535"));
        }
        port.parse()
            .map_err(|_| format!("the port {port} is over 65535"))
    }
}

/// How an address is written in a URL: `127.0.0.1:9887`, `[::1]:9887`, and `localhost:9887`
/// for the unspecified address (which cannot be browsed to).
pub fn url_authority(addr: SocketAddr) -> String {
    match addr.ip() {
        ip if ip.is_unspecified() => format!("localhost:{}", addr.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// The URL of `path` on a server bound to `addr`, as a user would open it.
pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{}{path}", url_authority(addr))
}

/// Binds `address` as Prometheus exporters do: `:9887` is every interface, IPv6 and IPv4 on
/// one dual-stack socket, or IPv4 alone on a host without IPv6. A name binds the first of its
/// addresses that can be bound.
pub async fn bind(address: &ListenAddress) -> Result<TcpListener, String> {
    let cannot = |e: std::io::Error| format!("cannot listen on {}: {e}", address.text);
    let port = address.port;
    match &address.host {
        ListenHost::Every => {
            match bind_socket(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)), false) {
                Ok(listener) => Ok(listener),
                Err(e) if no_ipv6(&e) => {
                    debug!(error = %e, "no IPv6 on this host; listening on IPv4 only");
                    bind_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), false)
                        .map_err(cannot)
                }
                Err(e) => Err(cannot(e)),
            }
        }
        ListenHost::Ip(ip) => bind_socket(SocketAddr::new(*ip, port), true).map_err(cannot),
        ListenHost::Name(name) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| {
                    format!(
                        "cannot resolve {name:?} in --web.listen-address={:?}: {e}",
                        address.text
                    )
                })?
                .collect();
            let mut last_error = None;
            for addr in addrs {
                match bind_socket(addr, true) {
                    Ok(listener) => return Ok(listener),
                    Err(e) => last_error = Some(e),
                }
            }
            Err(match last_error {
                Some(e) => cannot(e),
                None => format!(
                    "{name:?} in --web.listen-address={:?} resolves to no address",
                    address.text
                ),
            })
        }
    }
}

/// Whether binding failed because the host has no IPv6 at all (not because the port is taken).
fn no_ipv6(e: &std::io::Error) -> bool {
    let no_family = matches!(
        e.kind(),
        std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
    );
    #[cfg(unix)]
    let no_family = no_family
        || e.raw_os_error()
            .is_some_and(|code| code == libc::EAFNOSUPPORT || code == libc::EPROTONOSUPPORT);
    no_family
}

/// A listening socket on `addr`; an IPv6 one accepts IPv4 too unless `v6_only`.
fn bind_socket(addr: SocketAddr, v6_only: bool) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(v6_only)?;
    }
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_response(client: &mut tokio::io::DuplexStream) -> String {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 4096];
        let n = client.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).to_lowercase()
    }

    /// One connection of an empty site served by `builder` over an in-memory pipe: the
    /// client's end, and the task that ends when the server closes the connection.
    fn serve_in_memory(
        builder: auto::Builder<TokioExecutor>,
    ) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<()>) {
        let site = Arc::new(Site::new(
            crate::snapshot::SnapshotCell::default(),
            crate::telemetry::Shared::new(),
            "/metrics".into(),
            None,
        ));
        let (client, server) = tokio::io::duplex(1 << 16);
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        let serving = tokio::spawn(async move {
            // Never stopped: the sender lives as long as the connection.
            let (_stop, stopping) = watch::channel(false);
            let http = Arc::new(HttpSettings::default());
            serve_connection(server, site, http, &builder, stopping, peer).await
        });
        (client, serving)
    }

    #[tokio::test(start_paused = true)]
    async fn past_its_age_a_connection_answers_in_full_and_says_close() {
        use tokio::io::AsyncWriteExt;
        // No header timeout: the kept-alive connection idles past the age between requests.
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).keep_alive(true);
        let (mut client, serving) = serve_in_memory(builder);
        let request = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
        client.write_all(request).await.unwrap();
        let young = read_response(&mut client).await;
        assert!(
            young.starts_with("http/1.1 200") && young.ends_with("healthy\n"),
            "{young}"
        );
        assert!(!young.contains("connection: close"), "{young}");
        // Just past the age, a request on the kept-alive connection is answered whole.
        tokio::time::advance(MAX_CONNECTION_AGE + Duration::from_secs(1)).await;
        client.write_all(request).await.unwrap();
        let old = read_response(&mut client).await;
        assert!(
            old.starts_with("http/1.1 200") && old.ends_with("healthy\n"),
            "{old}"
        );
        assert!(old.contains("connection: close"), "{old}");
        serving.await.unwrap();
    }

    /// Found by the scrape fuzz target (its HTTP/2 preface seed hung): a graceful close of
    /// HTTP/2 waits for the client to acknowledge it, and a client that never does held the
    /// connection, and its slot, for ever.
    #[tokio::test(start_paused = true)]
    async fn a_silent_http2_client_is_closed_past_its_age() {
        use tokio::io::AsyncWriteExt;
        let (mut client, serving) = serve_in_memory(connection_builder());
        // The preface, then nothing: no SETTINGS, no answer to the server's.
        client
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        let limit = MAX_CONNECTION_AGE + HEADER_READ_TIMEOUT + SHUTDOWN_GRACE;
        let closed = tokio::time::timeout(limit + Duration::from_secs(1), serving).await;
        assert!(closed.is_ok(), "still open after {limit:?}");
        drop(client);
    }

    #[test]
    fn listen_addresses_as_prometheus_exporters_write_them() {
        let every = ListenAddress::parse(":9887").unwrap();
        assert_eq!((every.host, every.port), (ListenHost::Every, 9887));
        let v4 = ListenAddress::parse("127.0.0.1:0").unwrap();
        assert_eq!(v4.host, ListenHost::Ip("127.0.0.1".parse().unwrap()));
        let v6 = ListenAddress::parse("[::1]:80").unwrap();
        assert_eq!(
            (v6.host, v6.port),
            (ListenHost::Ip("::1".parse().unwrap()), 80)
        );
        let name = ListenAddress::parse("localhost:65535").unwrap();
        assert_eq!(name.host, ListenHost::Name("localhost".into()));
    }

    #[test]
    fn malformed_addresses_quote_what_was_typed() {
        for (bad, says) in [
            ("127.0.0.1", "a port is missing"),
            ("256.1.1.1:80", "is not an IPv4 address"),
            (":99999", "over 65535"),
            (":", "not a number"),
            (":-1", "not a number"),
            ("::1:9887", "brackets"),
            ("[::1]", "[::1]:9887"),
            ("[::g]:1", "not an IPv6 address"),
            ("exa mple:1", "not a host name"),
            ("", "a port is missing"),
        ] {
            let err = ListenAddress::parse(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("--web.listen-address={bad:?} is not valid: ")),
                "{err}"
            );
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn urls_are_valid_for_ipv6() {
        let v6: SocketAddr = "[::1]:9887".parse().unwrap();
        assert_eq!(url(v6, "/metrics"), "http://[::1]:9887/metrics");
        let v4: SocketAddr = "127.0.0.1:9887".parse().unwrap();
        assert_eq!(url(v4, "/metrics"), "http://127.0.0.1:9887/metrics");
        let every: SocketAddr = "[::]:9887".parse().unwrap();
        assert_eq!(url(every, "/"), "http://localhost:9887/");
    }

    fn has_ipv6_loopback() -> bool {
        std::net::TcpListener::bind("[::1]:0").is_ok()
    }

    #[tokio::test]
    async fn every_interface_answers_on_ipv4_and_ipv6() {
        let listener = bind(&ListenAddress::parse(":0").unwrap()).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = tokio::spawn(async move {
            for _ in 0..2 {
                let _ = listener.accept().await.unwrap();
            }
        });
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("IPv4 loopback answers");
        if has_ipv6_loopback() {
            tokio::net::TcpStream::connect(("::1", port))
                .await
                .expect("IPv6 loopback answers");
        } else {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
        }
        accepting.await.unwrap();
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error_naming_the_address() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let text = format!("127.0.0.1:{}", held.local_addr().unwrap().port());
        let err = bind(&ListenAddress::parse(&text).unwrap())
            .await
            .unwrap_err();
        assert!(
            err.starts_with(&format!("cannot listen on {text}: ")),
            "{err}"
        );
    }
}
