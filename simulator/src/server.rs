//! The hyper server, and the order in which a request is judged.
//!
//! Every request that reaches the handler is counted, waits the configured latency, then:
//!
//! 1. a path the simulator does not serve is a 404; a served path is counted for
//!    [`Simulator::requests_to`]; a method other than GET is a 405;
//! 2. a request to `/sessions/data_series` is counted for its (`app_id`, `segment_id`) series;
//! 3. a [`Fault`] for it answers instead (a [`Fault::Delay`] waits, then carries on);
//! 4. an `api_key` query parameter, or an `Authorization` header that is not exactly
//!    `Bearer <key>`, is a 401 that never repeats the key it received;
//! 5. a key without the endpoint's permission gets a 403;
//! 6. it uses one request of its pool's budget (the lists' for `/events/list` and
//!    `/purchases/product_list`, campaign analytics' for `/campaigns/data_series`, the shared
//!    one otherwise), or gets a 429;
//! 7. its parameters are checked (400) and it is answered (200).
//!
//! Braze-made answers carry the `X-RateLimit-*` headers of the pool the path is on (the
//! shared one for unknown paths); only 6 uses up budget. Braze does not say whether refused
//! requests count against the budget: here only authenticated and permitted ones do.
//!
//! The 403's message is a choice (Braze documents the status for a key lacking the permission,
//! not its words): `{"message": "Access denied: this API key does not have the
//! <permission> permission"}`.
//!
//! No header-read timeout is set: this serves loopback clients only, and a timeout would close
//! idle keep-alive connections whenever a test advances a paused tokio clock past it, making
//! the tests race on reused connections.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::counts::SeriesShape;
use super::endpoints::{Endpoint, Pool};
use super::faults::{Fault, Faults, UNSUCCESSFUL_VALUE};
use super::lists::Catalog;
use super::messaging::{self, Messaging};
use super::params::{self, Query, Workspace};
use super::rate_limit::{RateLimitState, RateLimiter, Window};
use super::responses::{
    braze_error, json_response, load_balancer_error, oversized_body, series_body, Body,
};
use super::SimulatorConfig;
use crate::Clock;

/// How long shutdown waits for connections to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulated Braze workspace. Dropping it stops the server in the background;
/// [`Simulator::shutdown`] also waits for that.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    /// Whether it serves HTTPS ([`Simulator::start_tls`]).
    tls: bool,
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
        Self::serve_on(config, listener, None)
    }

    /// As [`Simulator::start`], serving HTTPS with `tls` (its certificate and key): Braze is
    /// reached over TLS only. [`Simulator::url`] is then `https://localhost:PORT`, so the
    /// certificate should name `localhost`.
    pub async fn start_tls(
        config: SimulatorConfig,
        listener: TcpListener,
        tls: Arc<tokio_rustls::rustls::ServerConfig>,
    ) -> std::io::Result<Simulator> {
        Self::serve_on(config, listener, Some(tokio_rustls::TlsAcceptor::from(tls)))
    }

    fn serve_on(
        config: SimulatorConfig,
        listener: TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<Simulator> {
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = Arc::new(State::new(config, shutdown_rx.clone()));
        let https = tls.is_some();
        let task = tokio::spawn(serve(listener, tls, Arc::clone(&state), shutdown_rx));
        Ok(Simulator {
            addr,
            tls: https,
            state,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (a listener on an unspecified address is reached on loopback),
    /// or `https://localhost:PORT` when serving TLS.
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        match self.tls {
            true => format!("https://localhost:{}", addr.port()),
            false => format!("http://{addr}"),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes `api_key` the only key accepted from the next request on, as when a key is
    /// rotated in Braze's dashboard (the old one is refused at once: Braze documents no grace
    /// period). [`SimulatorConfig::api_key`] is the key until then.
    pub fn set_api_key(&self, api_key: &str) {
        *self
            .state
            .expected_authorization
            .write()
            .unwrap_or_else(|e| e.into_inner()) = format!("Bearer {api_key}").into_bytes();
    }

    /// The faults in force; changes apply to the next request.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Every request that reached the handler, whatever its path or answer.
    pub fn requests_received(&self) -> u64 {
        self.state.requests_received.load(Ordering::Relaxed)
    }

    /// Requests to this served path (such as `"/events/list"`), whatever their method or
    /// answer. Unknown paths are not counted: 0.
    pub fn requests_to(&self, path: &str) -> u64 {
        Endpoint::from_path(path).map_or(0, |endpoint| {
            self.state.requests_per_path[endpoint.index()].load(Ordering::Relaxed)
        })
    }

    /// GET requests to `/sessions/data_series` with exactly these `app_id` and `segment_id`
    /// parameters (`None`: absent), whatever their answer.
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

async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
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
                    match &tls {
                        None => {
                            let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                            tokio::spawn(async move {
                                if let Err(error) = connection.await {
                                    tracing::debug!(%error, "braze simulator connection ended");
                                }
                            });
                        }
                        Some(acceptor) => {
                            // The handshake runs in the connection's task, so a slow client
                            // holds up no other; a failed one (a client refusing the
                            // certificate) only ends its connection.
                            let accepting = acceptor.accept(stream);
                            let builder = builder.clone();
                            let watcher = graceful.watcher();
                            let mut stop = shutdown.clone();
                            tokio::spawn(async move {
                                let stream = tokio::select! {
                                    accepted = accepting => match accepted {
                                        Ok(stream) => stream,
                                        Err(error) => {
                                            tracing::debug!(%error, "braze simulator TLS handshake failed");
                                            return;
                                        }
                                    },
                                    () = stopping(&mut stop) => return,
                                };
                                let connection = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                                if let Err(error) = connection.await {
                                    tracing::debug!(%error, "braze simulator connection ended");
                                }
                            });
                        }
                    }
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
    /// `Bearer <key>`: [`Simulator::set_api_key`] changes it at run time.
    expected_authorization: std::sync::RwLock<Vec<u8>>,
    /// `None`: every permission.
    permissions: Option<HashSet<String>>,
    workspace: Workspace,
    catalog: Catalog,
    messaging: Messaging,
    shape: SeriesShape,
    latency: Duration,
    clock: Clock,
    /// One per [`Pool`], in the order of [`Pool::ALL`].
    limiters: [RateLimiter; Pool::ALL.len()],
    faults: Faults,
    requests_received: AtomicU64,
    requests_per_path: [AtomicU64; Endpoint::ALL.len()],
    requests_per_series: Mutex<SeriesCounts>,
    shutdown: watch::Receiver<bool>,
}

impl State {
    fn new(config: SimulatorConfig, shutdown: watch::Receiver<bool>) -> Self {
        let catalog = Catalog::new(&config);
        let messaging = Messaging::new(&config);
        Self {
            expected_authorization: std::sync::RwLock::new(
                format!("Bearer {}", config.api_key).into_bytes(),
            ),
            permissions: config.permissions,
            workspace: Workspace {
                time_zone: config.time_zone.clone(),
                apps: config.apps.into_iter().collect(),
                segments: config.segments.into_iter().collect(),
                untracked_segments: config
                    .untracked_segments
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect(),
                events: config.events.into_iter().collect(),
                products: config.products.into_iter().collect(),
            },
            catalog,
            messaging,
            shape: SeriesShape {
                time_zone: config.time_zone,
                hourly_time_format: config.hourly_time_format,
                include_in_progress: config.include_in_progress,
            },
            latency: config.latency,
            clock: config.clock,
            limiters: Pool::ALL.map(|pool| match pool {
                Pool::Shared => RateLimiter::new(config.rate_limit_per_hour, Window::Hour),
                Pool::Lists => RateLimiter::new(config.list_rate_limit_per_hour, Window::Hour),
                Pool::CampaignAnalytics => {
                    RateLimiter::new(config.campaign_rate_limit_per_minute, Window::Minute)
                }
            }),
            faults: Faults::new(),
            requests_received: AtomicU64::new(0),
            requests_per_path: Default::default(),
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
        let Some(endpoint) = Endpoint::from_path(request.uri().path()) else {
            let rate = self.limiters[Pool::Shared.index()].peek(self.clock.now());
            return braze_error(StatusCode::NOT_FOUND, "Not Found", None, Some(rate));
        };
        self.requests_per_path[endpoint.index()].fetch_add(1, Ordering::Relaxed);
        if request.method() != Method::GET {
            let rate = self.limiter(endpoint).peek(self.clock.now());
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
        let series = (endpoint == Endpoint::Sessions)
            .then(|| (query.get("app_id"), query.get("segment_id")));
        if let Some((app_id, segment_id)) = series {
            self.count_series(app_id, segment_id);
        }
        if let Some(fault) = self.faults.for_request(endpoint.path(), series, &query) {
            if let Some(response) = self.apply_fault(endpoint, fault).await {
                return response;
            }
        }
        self.answer(endpoint, &request, &query)
    }

    /// The budget `endpoint` is on.
    fn limiter(&self, endpoint: Endpoint) -> &RateLimiter {
        &self.limiters[endpoint.pool().index()]
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

    /// Steps 4 to 7 of the module documentation.
    fn answer(
        &self,
        endpoint: Endpoint,
        request: &Request<Incoming>,
        query: &Query,
    ) -> Response<Body> {
        let now = self.clock.now();
        let limiter = self.limiter(endpoint);
        if let Err(reason) = self.authenticate(request, query) {
            let rate = limiter.peek(now);
            let message = format!("Invalid API key: {reason}");
            return braze_error(StatusCode::UNAUTHORIZED, &message, None, Some(rate));
        }
        if !self.permitted(endpoint) {
            let rate = limiter.peek(now);
            let message = format!(
                "Access denied: this API key does not have the {} permission",
                endpoint.permission()
            );
            return braze_error(StatusCode::FORBIDDEN, &message, None, Some(rate));
        }
        let rate = match limiter.acquire(now) {
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
        match self.body(endpoint, query, now) {
            Ok(body) => json_response(StatusCode::OK, body, Some(rate)),
            Err(message) => braze_error(StatusCode::BAD_REQUEST, &message, None, Some(rate)),
        }
    }

    fn permitted(&self, endpoint: Endpoint) -> bool {
        self.permissions
            .as_ref()
            .is_none_or(|permissions| permissions.contains(endpoint.permission()))
    }

    /// The body of a 200, or the message of a 400.
    fn body(
        &self,
        endpoint: Endpoint,
        query: &Query,
        now: jiff::Timestamp,
    ) -> Result<Vec<u8>, String> {
        let text = |error: params::ParamError| error.to_string();
        if endpoint.messaging() {
            return self
                .messaging
                .answer(endpoint, query, &self.shape, now)
                .map_err(text);
        }
        match endpoint {
            Endpoint::EventsList => {
                Ok(self.catalog.events_page(params::page(query).map_err(text)?))
            }
            Endpoint::ProductList => Ok(self
                .catalog
                .products_page(params::page(query).map_err(text)?)),
            Endpoint::SegmentsList => {
                let page = params::page(query).map_err(text)?;
                let direction = params::sort_direction(query).map_err(text)?;
                Ok(self.catalog.segments_page(page, direction))
            }
            _ => {
                let request = self.workspace.validate(endpoint, query).map_err(text)?;
                let series = request
                    .series(endpoint)
                    .expect("a validated data-series request names its series");
                let points = self
                    .shape
                    .series(
                        &series,
                        request.unit,
                        request.length,
                        request.ending_at,
                        now,
                    )
                    .map_err(|_| "Invalid ending_at: out of range".to_string())?;
                let field = endpoint.field().expect("a data series has a field");
                Ok(series_body(field, series.in_cents(), &points))
            }
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
            Some(value)
                if *value.as_bytes()
                    == **self
                        .expected_authorization
                        .read()
                        .unwrap_or_else(|e| e.into_inner()) =>
            {
                Ok(())
            }
            Some(_) => {
                Err("the Authorization header does not carry a valid key for this workspace")
            }
        }
    }

    /// The answer a fault gives instead of the normal one; `None` to carry on normally.
    async fn apply_fault(&self, endpoint: Endpoint, fault: Fault) -> Option<Response<Body>> {
        let now = self.clock.now();
        let limiter = self.limiter(endpoint);
        let rate = Some(limiter.peek(now));
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
            Fault::WrongShape if endpoint.messaging() => {
                let today = now.to_zoned(self.shape.time_zone.clone()).date();
                json_response(
                    StatusCode::OK,
                    messaging::wrong_shape(endpoint, today),
                    rate,
                )
            }
            Fault::Unsuccessful(message) if endpoint.messaging() => {
                let today = now.to_zoned(self.shape.time_zone.clone()).date();
                let body = messaging::unsuccessful(endpoint, &message, today);
                json_response(StatusCode::OK, body, rate)
            }
            Fault::WrongShape => {
                let body = match (endpoint.field(), endpoint.list_key()) {
                    (Some(field), _) => {
                        let today = now.to_zoned(self.shape.time_zone.clone()).date();
                        format!(
                            r#"{{"message":"success","data":[{{"time":"{today}","{field}":"lots"}}]}}"#
                        )
                    }
                    (None, key) => {
                        let key = key.unwrap_or("data");
                        format!(r#"{{"message":"success","{key}":"lots"}}"#)
                    }
                };
                json_response(StatusCode::OK, body, rate)
            }
            Fault::Oversized(size) => json_response(StatusCode::OK, oversized_body(size), rate),
            Fault::Unsuccessful(message) => {
                let body = match (endpoint.field(), endpoint.list_key()) {
                    (Some(field), _) => {
                        let today = now.to_zoned(self.shape.time_zone.clone()).date();
                        serde_json::json!({
                            "message": message,
                            "data": [{"time": today.to_string(), field: UNSUCCESSFUL_VALUE}],
                        })
                    }
                    (None, key) => serde_json::json!({
                        "message": message,
                        key.unwrap_or("data"): [format!("unsuccessful-{UNSUCCESSFUL_VALUE}")],
                    }),
                };
                json_response(StatusCode::OK, body.to_string(), rate)
            }
            Fault::RateLimited { reset_in } => braze_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                None,
                Some(exhausted(limiter, now, reset_in)),
            ),
            Fault::RetryAfter {
                retry_after,
                reset_in,
            } => {
                let rate = reset_in.map(|reset_in| exhausted(limiter, now, reset_in));
                let mut response = braze_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests",
                    None,
                    rate,
                );
                if let Ok(value) = HeaderValue::from_str(&retry_after) {
                    response.headers_mut().insert(RETRY_AFTER, value);
                }
                response
            }
        };
        Some(response)
    }
}

/// The budget of a 429 fault: none left, and the window resets `reset_in` from `now` (rounded
/// up to a whole second).
fn exhausted(limiter: &RateLimiter, now: jiff::Timestamp, reset_in: Duration) -> RateLimitState {
    let reset_in = i64::try_from(reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0))
        .unwrap_or(i64::MAX);
    RateLimitState {
        limit: limiter.peek(now).limit,
        remaining: 0,
        reset: now.as_second().saturating_add(reset_in),
    }
}
