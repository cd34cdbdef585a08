//! The HTTP side: `/metrics` from the current snapshot, a landing page, health and readiness.
//!
//! hyper 1.x through hyper-util, HTTP/1.1 and HTTP/2, with a timer so the header-read timeout
//! applies; shutdown stops accepting and gives open connections a bounded grace period.

mod body;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::{debug, warn};

pub use body::Chunks;
pub use routes::{accepts_gzip, Site, CONTENT_TYPE_TEXT};

/// How long a client may take to send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves `site` on `listener` until `shutdown` completes, then drains within
/// [`SHUTDOWN_GRACE`].
pub async fn serve(listener: TcpListener, site: Arc<Site>, shutdown: impl Future<Output = ()>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
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
        let site = site.clone();
        let service = service_fn(move |request| {
            let site = site.clone();
            async move { Ok::<_, std::convert::Infallible>(site.handle(&request)) }
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period; closing them");
    }
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
