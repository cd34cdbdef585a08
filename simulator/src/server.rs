//! The hyper server, and the order in which a request is judged.
//!
//! Every request that reaches the handler is counted, waits the configured latency, then:
//!
//! 1. a path other than `/sessions/data_series` is a 404, a method other than GET a 405;
//! 2. it is counted for its (`app_id`, `segment_id`) series;
//! 3. a [`Fault`] for it answers instead (a [`Fault::Delay`] waits, then carries on);
//! 4. an `api_key` query parameter, or an `Authorization` header that is not exactly
//!    `Bearer <key>`, is a 401 that never repeats the key it received;
//! 5. it uses one request of the rate-limit budget, or gets a 429;
//! 6. its parameters are checked (400) and the series is answered (200).
//!
//! Braze-made answers carry the `X-RateLimit-*` headers; only 5 uses up budget. Braze does not
//! say whether refused requests count against the budget: here only authenticated ones do.
//!
//! No header-read timeout is set: this serves loopback clients only, and a timeout would close
//! idle keep-alive connections whenever a test advances a paused tokio clock past it, making
//! the tests race on reused connections.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::counts::SeriesShape;
use super::faults::{Fault, Faults};
use super::params::{Query, Workspace};
use super::rate_limit::{RateLimitState, RateLimiter};
use super::responses::{
    braze_error, json_response, load_balancer_error, oversized_body, Body, SeriesBody,
};
use super::SimulatorConfig;
use crate::Clock;

/// The only path served.
const ENDPOINT: &str = "/sessions/data_series";

/// How long shutdown waits for connections to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulated Braze workspace. Dropping it stops the server in the background;
/// [`Simulator::shutdown`] also waits for that.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Serves `config` on `listener` from a spawned task.
    pub async fn start(
        config: SimulatorConfig,
        listener: TcpListener,
    ) -> std::io::Result<Simulator> {
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = Arc::new(State::new(config, shutdown_rx.clone()));
        let task = tokio::spawn(serve(listener, Arc::clone(&state), shutdown_rx));
        Ok(Simulator {
            addr,
            state,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (a listener on an unspecified address is reached on loopback).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// The faults in force; changes apply to the next request.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Every request that reached the handler, whatever its path or answer.
    pub fn requests_received(&self) -> u64 {
        self.state.requests_received.load(Ordering::Relaxed)
    }

    /// GET requests to the endpoint with exactly these `app_id` and `segment_id` parameters
    /// (`None`: absent), whatever their answer.
    pub fn requests_for(&self, app_id: Option<&str>, segment_id: Option<&str>) -> u64 {
        let key = (app_id.map(str::to_owned), segment_id.map(str::to_owned));
        let counts = self.state.lock_requests_per_series();
        counts.get(&key).copied().unwrap_or(0)
    }

    /// Stops accepting, drops requests in flight (hung ones included), and waits up to five
    /// seconds for connections to close.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "braze simulator task failed");
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.keep_alive(true);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Latency is simulated on purpose; Nagle's would only add noise to it.
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&state);
                    let service = service_fn(move |request| Arc::clone(&state).respond(request));
                    let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "braze simulator connection ended");
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors and the like: let connections finish, retry.
                    tracing::warn!(%error, "braze simulator failed to accept");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            () = stopping(&mut shutdown) => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("braze simulator connections still open after the shutdown grace period");
    }
}

/// Resolves once shutdown is signalled (or the [`Simulator`] is gone).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A request abandoned because the simulator is shutting down: hyper drops its connection.
#[derive(Debug, thiserror::Error)]
#[error("the Braze simulator is shutting down")]
struct ShuttingDown;

type SeriesCounts = HashMap<(Option<String>, Option<String>), u64>;

/// What the handler shares across connections. No lock is held across an await.
#[derive(Debug)]
struct State {
    expected_authorization: Vec<u8>,
    workspace: Workspace,
    shape: SeriesShape,
    latency: Duration,
    clock: Clock,
    rate_limiter: RateLimiter,
    faults: Faults,
    requests_received: AtomicU64,
    requests_per_series: Mutex<SeriesCounts>,
    shutdown: watch::Receiver<bool>,
}

impl State {
    fn new(config: SimulatorConfig, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            expected_authorization: format!("Bearer {}", config.api_key).into_bytes(),
            workspace: Workspace {
                time_zone: config.time_zone.clone(),
                apps: config.apps.into_iter().collect(),
                segments: config.segments.into_iter().collect(),
            },
            shape: SeriesShape {
                time_zone: config.time_zone,
                hourly_time_format: config.hourly_time_format,
                include_in_progress: config.include_in_progress,
            },
            latency: config.latency,
            clock: config.clock,
            rate_limiter: RateLimiter::new(config.rate_limit_per_hour),
            faults: Faults::new(),
            requests_received: AtomicU64::new(0),
            requests_per_series: Mutex::new(HashMap::new()),
            shutdown,
        }
    }

    async fn respond(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, ShuttingDown> {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            response = self.handle(request) => Ok(response),
            () = stopping(&mut shutdown) => Err(ShuttingDown),
        }
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        self.requests_received.fetch_add(1, Ordering::Relaxed);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if request.uri().path() != ENDPOINT {
            let rate = self.rate_limiter.peek(self.clock.now());
            return braze_error(StatusCode::NOT_FOUND, "Not Found", None, Some(rate));
        }
        if request.method() != Method::GET {
            let rate = self.rate_limiter.peek(self.clock.now());
            let mut response = braze_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
                None,
                Some(rate),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET"));
            return response;
        }
        let query = Query::parse(request.uri().query());
        let (app_id, segment_id) = (query.get("app_id"), query.get("segment_id"));
        self.count_series(app_id, segment_id);
        if let Some(fault) = self.faults.for_request(app_id, segment_id) {
            if let Some(response) = self.apply_fault(fault).await {
                return response;
            }
        }
        self.answer(&request, &query)
    }

    fn count_series(&self, app_id: Option<&str>, segment_id: Option<&str>) {
        let key = (app_id.map(str::to_owned), segment_id.map(str::to_owned));
        *self.lock_requests_per_series().entry(key).or_default() += 1;
    }

    fn lock_requests_per_series(&self) -> std::sync::MutexGuard<'_, SeriesCounts> {
        self.requests_per_series
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Steps 4 to 6 of the module documentation.
    fn answer(&self, request: &Request<Incoming>, query: &Query) -> Response<Body> {
        let now = self.clock.now();
        if let Err(reason) = self.authenticate(request, query) {
            let rate = self.rate_limiter.peek(now);
            let message = format!("Invalid API key: {reason}");
            return braze_error(StatusCode::UNAUTHORIZED, &message, None, Some(rate));
        }
        let rate = match self.rate_limiter.acquire(now) {
            Ok(rate) => rate,
            Err(rate) => {
                return braze_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests",
                    None,
                    Some(rate),
                )
            }
        };
        let series = self
            .workspace
            .validate(query)
            .map_err(|error| error.to_string())
            .and_then(|request| {
                self.shape
                    .series(&request, now)
                    .map_err(|_| "Invalid ending_at: out of range".to_string())
            });
        match series {
            Ok(points) => {
                let body = SeriesBody {
                    message: "success",
                    data: &points,
                };
                let body = serde_json::to_vec(&body).expect("a series serializes");
                json_response(StatusCode::OK, body, Some(rate))
            }
            Err(message) => braze_error(StatusCode::BAD_REQUEST, &message, None, Some(rate)),
        }
    }

    /// Why the request is not authenticated, in words that never repeat a key.
    fn authenticate(&self, request: &Request<Incoming>, query: &Query) -> Result<(), &'static str> {
        if query.contains("api_key") {
            return Err(
                "the api_key query parameter is not accepted; send Authorization: Bearer <key>",
            );
        }
        match request.headers().get(AUTHORIZATION) {
            None => Err("missing Authorization header; send Authorization: Bearer <key>"),
            Some(value) if value.as_bytes() == self.expected_authorization => Ok(()),
            Some(_) => {
                Err("the Authorization header does not carry a valid key for this workspace")
            }
        }
    }

    /// The answer a fault gives instead of the normal one; `None` to carry on normally.
    async fn apply_fault(&self, fault: Fault) -> Option<Response<Body>> {
        let now = self.clock.now();
        let rate = Some(self.rate_limiter.peek(now));
        let response = match fault {
            Fault::Delay(delay) => {
                tokio::time::sleep(delay).await;
                return None;
            }
            Fault::Hang => std::future::pending().await,
            Fault::Status { status, message } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                braze_error(status, &message, Some(&[message.as_str()]), rate)
            }
            Fault::BareStatus(status) => {
                load_balancer_error(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
            }
            Fault::MalformedJson => json_response(
                StatusCode::OK,
                r#"{"message":"success","data":[{"time":"2026-11-28","sess"#,
                rate,
            ),
            Fault::WrongShape => {
                let today = now.to_zoned(self.shape.time_zone.clone()).date();
                let body = format!(
                    r#"{{"message":"success","data":[{{"time":"{today}","sessions":"lots"}}]}}"#
                );
                json_response(StatusCode::OK, body, rate)
            }
            Fault::Oversized(size) => json_response(StatusCode::OK, oversized_body(size), rate),
            Fault::RateLimited { reset_in } => {
                let reset_in =
                    i64::try_from(reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0))
                        .unwrap_or(i64::MAX);
                let rate = RateLimitState {
                    limit: self.rate_limiter.peek(now).limit,
                    remaining: 0,
                    reset: now.as_second().saturating_add(reset_in),
                };
                braze_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests",
                    None,
                    Some(rate),
                )
            }
        };
        Some(response)
    }
}
