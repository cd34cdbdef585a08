//! What each path answers. Handlers only read the current snapshot: nothing here calls Braze.

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{
    HeaderValue, ACCEPT_ENCODING, ALLOW, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, VARY,
    WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::Semaphore;

use super::web_config::BasicAuth;
use super::Chunks;
use crate::snapshot::{SnapshotCell, PLAIN_RENDERS, PLAIN_WAITING};
use crate::telemetry::{Shared, VERSION};

/// What the landing page says the exporter is: Cargo.toml's description, as `--help` says it.
const DESCRIPTION: &str = env!("CARGO_PKG_DESCRIPTION");

/// Scrapes served at once; more get 503 rather than queueing without bound.
pub const MAX_CONCURRENT_SCRAPES: usize = 64;

// A plain scrape waiting for its turn holds a scrape's place: they never take half of them.
const _: () = assert!(PLAIN_RENDERS + PLAIN_WAITING <= MAX_CONCURRENT_SCRAPES / 2);

/// The text exposition format, version 0.0.4 (Prometheus 3 refuses a scrape without it).
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The paths this exporter serves besides the telemetry path, which must be none of them.
pub const OWN_PATHS: [&str; 4] = [LANDING, HEALTHY, READY, RELOAD];
const LANDING: &str = "/";
const HEALTHY: &str = "/-/healthy";
const READY: &str = "/-/ready";
const RELOAD: &str = "/-/reload";

/// Checks `--web.telemetry-path`: a path of its own, starting with `/`.
pub fn check_telemetry_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
        return Err(format!(
            "--web.telemetry-path={path:?} must be a path starting with /"
        ));
    }
    if OWN_PATHS.contains(&path) {
        return Err(format!(
            "--web.telemetry-path={path:?} is taken: the exporter serves {} there",
            describe_path(path)
        ));
    }
    Ok(())
}

fn describe_path(path: &str) -> &'static str {
    match path {
        LANDING => "its landing page",
        HEALTHY => "its health check",
        READY => "its readiness check",
        _ => "the lifecycle reload",
    }
}

/// What `POST /-/reload` asks for. Reloading is owned above the HTTP layer; this is all the
/// layer knows of it.
pub trait ReloadHandler: Send + Sync + std::fmt::Debug {
    fn reload(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>>;
}

/// Everything a request may be answered from.
#[derive(Debug, Clone)]
pub struct Site {
    pub snapshots: SnapshotCell,
    pub telemetry: Arc<Shared>,
    pub telemetry_path: String,
    /// Serves `POST /-/reload` when set (`--web.enable-lifecycle`).
    pub reloader: Option<Arc<dyn ReloadHandler>>,
    pub auth: Arc<BasicAuth>,
    pub scrapes: Arc<Semaphore>,
}

impl Site {
    pub fn new(
        snapshots: SnapshotCell,
        telemetry: Arc<Shared>,
        telemetry_path: String,
        reloader: Option<Arc<dyn ReloadHandler>>,
    ) -> Self {
        Self {
            snapshots,
            telemetry,
            telemetry_path,
            reloader,
            auth: Arc::new(BasicAuth::default()),
            scrapes: Arc::new(Semaphore::new(MAX_CONCURRENT_SCRAPES)),
        }
    }

    /// This site behind the users of the current web config.
    pub fn with_auth(&self, auth: Arc<BasicAuth>) -> Self {
        Self {
            auth,
            ..self.clone()
        }
    }

    pub async fn handle<B>(&self, request: Request<B>) -> Response<Chunks> {
        let path = request.uri().path();
        let known = path == self.telemetry_path || OWN_PATHS.contains(&path);
        if !known {
            return plain(StatusCode::NOT_FOUND, "Not Found\n");
        }
        // Probes stay open: the kubelet has no credentials.
        let probe = matches!(path, HEALTHY | READY);
        if !probe && self.auth.enabled() {
            let header = request
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if !self.auth.allows(header) {
                let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized\n");
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"braze-exporter\""),
                );
                return response;
            }
        }
        if path == RELOAD {
            return self.reload(request.method()).await;
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return not_allowed("GET, HEAD");
        }
        match path {
            HEALTHY => plain(StatusCode::OK, "Healthy\n"),
            // Ready once the configuration is loaded and the server answers: never tied to
            // Braze, so a Braze outage cannot take a host pod out of its Service.
            READY => plain(StatusCode::OK, "Ready\n"),
            LANDING => self.landing_page(),
            _ => {
                let gzip = request
                    .headers()
                    .get_all(ACCEPT_ENCODING)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(accepts_gzip);
                self.metrics(gzip, request.method() == Method::HEAD).await
            }
        }
    }

    async fn reload(&self, method: &Method) -> Response<Chunks> {
        let Some(reloader) = &self.reloader else {
            return plain(
                StatusCode::FORBIDDEN,
                "Lifecycle API is not enabled: start with --web.enable-lifecycle.\n",
            );
        };
        if !matches!(*method, Method::POST | Method::PUT) {
            return not_allowed("POST, PUT");
        }
        match reloader.reload().await {
            Ok(()) => plain(StatusCode::OK, "Configuration reloaded.\n"),
            Err(why) => {
                let text = format!("Reload failed; the previous configuration stays: {why}\n");
                let mut response = Response::new(Chunks::text(text));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                response
            }
        }
    }

    /// The series (gzip shared by scrapes, or plain decompressed as it is sent, a few at a
    /// time: [`crate::snapshot::SnapshotCell`]) followed by the self-metrics.
    async fn metrics(&self, gzip: bool, head: bool) -> Response<Chunks> {
        let Ok(_permit) = self.scrapes.try_acquire() else {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many concurrent scrapes.\n",
            );
        };
        let live = self.telemetry.encode_shared();
        let body = if gzip {
            Chunks::new(self.snapshots.gzip_with(live).await)
        } else if head {
            Chunks::unsent(self.snapshots.plain_unsent(live).len())
        } else {
            match self.snapshots.plain_with(live).await {
                Ok(body) => Chunks::made(body),
                Err(_) => {
                    let mut response = plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Too many concurrent uncompressed scrapes; ask for gzip (Accept-Encoding: gzip).\n",
                    );
                    response
                        .headers_mut()
                        .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
                    return response;
                }
            }
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }

    fn landing_page(&self) -> Response<Chunks> {
        let path = html_escape(&self.telemetry_path);
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Braze Exporter</title></head>\n\
             <body><h1>Braze Exporter</h1>\n\
             <p>{DESCRIPTION}, refreshed in the background. Version {VERSION}.</p>\n\
             <ul><li><a href=\"{path}\">Metrics</a></li>\n\
             <li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a></li></ul>\n\
             </body></html>\n",
        );
        let mut response = Response::new(Chunks::text(page));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }
}

fn not_allowed(allow: &'static str) -> Response<Chunks> {
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed here.\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Chunks> {
    let mut response = Response::new(Chunks::text(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether an `Accept-Encoding` value allows gzip: `gzip` or `*` with a q-value above zero.
pub fn accepts_gzip(header: &str) -> bool {
    // RFC 9110 12.5.3: an explicit `gzip` decides by its own q-value; otherwise `*` does.
    let mut gzip = None;
    let mut any = None;
    for coding in header.split(',') {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())
                    .flatten()
            })
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(q);
        } else if name == "*" {
            any = Some(q);
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Encoded, Snapshot};
    use http_body_util::BodyExt;
    use hyper::body::Body;

    fn site_with(text: &[u8]) -> Site {
        let snapshots = SnapshotCell::default();
        snapshots.publish(Snapshot {
            encoded: Encoded::new(text.to_vec()),
        });
        Site::new(snapshots, Shared::new(), "/metrics".into(), None)
    }

    fn request(method: Method, gzip: bool) -> Request<()> {
        let mut request = Request::builder().method(method).uri("/metrics");
        if gzip {
            request = request.header(ACCEPT_ENCODING, "gzip");
        }
        request.body(()).unwrap()
    }

    async fn body_of(response: Response<Chunks>) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn metrics_plain_and_gzip_carry_the_same_text_and_headers() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("braze_up{{i=\"{i}\"}} 1\n").into_bytes())
            .collect();
        let site = site_with(&text);
        let plain = site.handle(request(Method::GET, false)).await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(plain.headers()[CONTENT_TYPE], CONTENT_TYPE_TEXT);
        assert_eq!(plain.headers()[VARY], "Accept-Encoding");
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());
        let length = plain.body().size_hint().exact().unwrap();
        let plain = body_of(plain).await;
        assert_eq!(plain.len() as u64, length);
        assert!(plain.starts_with(&text));
        assert!(String::from_utf8_lossy(&plain[text.len()..]).contains("braze_exporter_build_info"));

        let gzip = site.handle(request(Method::GET, true)).await;
        assert_eq!(gzip.headers()[CONTENT_TYPE], CONTENT_TYPE_TEXT);
        assert_eq!(gzip.headers()[VARY], "Accept-Encoding");
        assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&body_of(gzip).await[..]),
            &mut decoded,
        )
        .unwrap();
        assert!(decoded.starts_with(&text));
        assert!(
            String::from_utf8_lossy(&decoded[text.len()..]).contains("braze_exporter_build_info")
        );
    }

    /// hyper sends a HEAD response's `Content-Length` from the body's exact size and no bytes.
    #[tokio::test]
    async fn metrics_head_has_the_length_and_headers_of_a_get() {
        let site = site_with(b"braze_up 1\n");
        for gzip in [false, true] {
            let live = site.telemetry.encode_shared();
            let head = site.handle(request(Method::HEAD, gzip)).await;
            assert_eq!(head.status(), StatusCode::OK);
            assert_eq!(head.headers()[CONTENT_TYPE], CONTENT_TYPE_TEXT);
            assert_eq!(head.headers()[VARY], "Accept-Encoding");
            assert_eq!(head.headers().contains_key(CONTENT_ENCODING), gzip);
            let length = head.body().size_hint().exact().unwrap();
            let get = site.handle(request(Method::GET, gzip)).await;
            let get_length = get.body().size_hint().exact().unwrap();
            // The self-metrics are re-encoded once a second: compare within one encoding.
            if site.telemetry.encode_shared() == live {
                assert_eq!(get_length, length, "gzip: {gzip}");
                assert_eq!(body_of(get).await.len() as u64, length);
            }
        }
    }

    #[tokio::test]
    async fn plain_scrapes_beyond_the_bound_are_refused_and_gzip_ones_served() {
        let site = site_with(b"braze_up 1\n");
        // Plain bodies not yet sent hold their turns.
        let mut held = Vec::new();
        for _ in 0..PLAIN_RENDERS {
            held.push(site.handle(request(Method::GET, false)).await);
        }
        let waiting: Vec<_> = (0..PLAIN_WAITING)
            .map(|_| {
                let site = site.clone();
                tokio::spawn(async move { site.handle(request(Method::GET, false)).await })
            })
            .collect();
        for _ in 0..PLAIN_WAITING * 4 {
            tokio::task::yield_now().await;
        }
        let refused = site.handle(request(Method::GET, false)).await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let gzip = site.handle(request(Method::GET, true)).await;
        assert_eq!(gzip.status(), StatusCode::OK);
        assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
        drop(held);
        for w in waiting {
            assert_eq!(w.await.unwrap().status(), StatusCode::OK);
        }
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(accepts_gzip("gzip, identity"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("br, deflate"));
        assert!(!accepts_gzip("x-gzip2"));
        // An explicit refusal wins over the wildcard, and q is read case-insensitively.
        assert!(!accepts_gzip("gzip;q=0, *"));
        assert!(!accepts_gzip("*, gzip;Q=0"));
        assert!(!accepts_gzip("GZIP ; Q=0.0"));
        assert!(accepts_gzip("gzip;Q=0.5"));
        assert!(accepts_gzip("identity;q=1, *;q=0.1"));
        assert!(!accepts_gzip("identity, *;q=0"));
        assert!(accepts_gzip("x-gzip"));
    }

    #[test]
    fn the_telemetry_path_is_a_free_path_of_its_own() {
        assert!(check_telemetry_path("/metrics").is_ok());
        assert!(check_telemetry_path("/braze/metrics").is_ok());
        for taken in OWN_PATHS {
            let why = check_telemetry_path(taken).unwrap_err();
            assert!(
                why.contains("--web.telemetry-path") && why.contains("is taken"),
                "{why}"
            );
        }
        for bad in ["metrics", "", "/m?x", "/m#x", "/m x"] {
            let why = check_telemetry_path(bad).unwrap_err();
            assert!(
                why.contains("must be a path starting with /"),
                "{bad}: {why}"
            );
        }
    }

    #[test]
    fn landing_page_escapes_the_path() {
        assert_eq!(html_escape("/m<\"x\">&"), "/m&lt;&quot;x&quot;&gt;&amp;");
    }
}
