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
use std::net::SocketAddr;
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
    let builder = Arc::new(builder);
    let (stop, stopping) = watch::channel(false);
    let mut open = JoinSet::new();
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
        let _ = stream.set_nodelay(true);
        let settings = web.settings();
        let site = Arc::new(site.with_auth(settings.users.clone()));
        let http = settings.http.clone();
        let (builder, stopping) = (builder.clone(), stopping.clone());
        open.spawn(async move {
            let _permit = permit;
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
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while open.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period; closing them");
        open.abort_all();
    }
    Ok(())
}

/// Serves one connection until the client is done, shutdown starts, or it reaches
/// [`MAX_CONNECTION_AGE`]; the last two end it gracefully, after the response in progress.
/// `http` is the web config's rate limit and response headers, for every response.
async fn serve_connection<I>(
    io: I,
    site: Arc<Site>,
    http: Arc<HttpSettings>,
    builder: &auto::Builder<TokioExecutor>,
    mut stopping: watch::Receiver<bool>,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let (site, http) = (site.clone(), http.clone());
        async move {
            let mut response = if http.admits_request() {
                site.handle(request).await
            } else {
                too_many_requests()
            };
            http.add_headers(response.headers_mut());
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
        () = tokio::time::sleep(MAX_CONNECTION_AGE) => {
            connection.as_mut().graceful_shutdown();
            connection.await
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

/// Binds `address` as Prometheus exporters write it: `:9887` means every interface.
pub async fn bind(address: &str) -> Result<TcpListener, String> {
    let address = match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_string(),
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&address)
        .await
        .map_err(|e| format!("--web.listen-address={address} is not valid: {e}"))?
        .collect();
    let mut last_error = None;
    for addr in addrs {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) => format!("cannot listen on {address}: {e}"),
        None => format!("--web.listen-address={address} resolves to no address"),
    })
}
