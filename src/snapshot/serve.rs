//! What a scrape of the current snapshot gets: a shared gzip body, or the plain text
//! decompressed on demand, a bounded number at a time.
//!
//! **gzip** (what Prometheus asks for): one gzip member of the series' text followed by the
//! self-metrics: the snapshot's compressed text as it is, then the self-metrics compressed
//! after it ([`encoded`]). It is built off the async threads when the snapshot or the
//! self-metrics have changed since the last one (the self-metrics change at most once a
//! second, [`crate::telemetry::ENCODE_EVERY`]) and shared by every scrape until then. While
//! one is being built, other scrapes get the previous one (at most one build older), so a
//! new snapshot or a new second never makes scrapes wait; only the very first
//! gzip scrape waits for its body. One member, not a concatenation of two: Go's
//! `gzip.Reader` (Prometheus) reads concatenated members, but curl `--compressed` fails on
//! them and browsers stop after the first.
//!
//! **plain** (curl without `--compressed`, a browser that does not ask for gzip): the
//! snapshot's compressed text is decompressed as the body is sent, [`PLAIN_CHUNK`] bytes at a time, so
//! the whole text never exists at once. At most [`PLAIN_RENDERS`] are sent at a time and
//! [`PLAIN_WAITING`] more wait (each at most [`PLAIN_WAIT`]); beyond that a plain scrape is
//! refused, so a burst of them holds a bounded amount of memory and leaves gzip scrapes alone.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::encoded::{self, GzipParts};
use super::Snapshot;

/// Plain bodies being sent at once.
pub const PLAIN_RENDERS: usize = 2;
/// Plain scrapes waiting for one of the [`PLAIN_RENDERS`]; more are refused at once.
pub const PLAIN_WAITING: usize = 30;
/// How long a plain scrape waits for its turn before it is refused.
pub const PLAIN_WAIT: Duration = Duration::from_secs(10);
/// Bytes of plain text decompressed per piece of a plain body.
pub const PLAIN_CHUNK: usize = 64 * 1024;

/// Why a plain scrape is not served now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// [`PLAIN_WAITING`] scrapes are already waiting.
    QueueFull,
    /// Waited [`PLAIN_WAIT`] without a turn.
    TimedOut,
}

/// The scrape side of a [`super::SnapshotCell`]: the shared gzip body and the plain bound.
#[derive(Debug)]
pub(super) struct Serving {
    /// The latest gzip body, read without a lock by every gzip scrape.
    gzip: ArcSwapOption<GzipBody>,
    /// Whether a gzip body is being built; one at a time.
    gzip_building: AtomicBool,
    gzip_built: Notify,
    /// Plain scrapes admitted: sending or waiting.
    plain_admitted: Arc<Semaphore>,
    plain_renders: Arc<Semaphore>,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            gzip: ArcSwapOption::empty(),
            gzip_building: AtomicBool::new(false),
            gzip_built: Notify::new(),
            plain_admitted: Arc::new(Semaphore::new(PLAIN_RENDERS + PLAIN_WAITING)),
            plain_renders: Arc::new(Semaphore::new(PLAIN_RENDERS)),
        }
    }
}

#[derive(Debug)]
struct GzipBody {
    /// Which snapshot it was built from (a `Weak`: the body holds the snapshot's compressed
    /// text, not the rest of the snapshot).
    snapshot: Weak<Snapshot>,
    tail: Bytes,
    parts: GzipParts,
}

impl GzipBody {
    fn is_of(&self, snapshot: &Arc<Snapshot>, tail: &[u8]) -> bool {
        std::ptr::eq(self.snapshot.as_ptr(), Arc::as_ptr(snapshot)) && self.tail == tail
    }
}

impl Serving {
    /// The gzip body of the current snapshot followed by `tail`.
    pub(super) async fn gzip_with(
        self: &Arc<Self>,
        current: &ArcSwap<Snapshot>,
        tail: Bytes,
    ) -> GzipParts {
        loop {
            let snapshot = current.load();
            if let Some(latest) = &*self.gzip.load() {
                if latest.is_of(&snapshot, &tail) {
                    return latest.parts.clone();
                }
            }
            // Created before the state is read again, so a build that ends in between is not
            // missed.
            let built = self.gzip_built.notified();
            let start = self.gzip_building.compare_exchange(
                false,
                true,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if start.is_err() {
                match &*self.gzip.load() {
                    Some(latest) => return latest.parts.clone(),
                    None => {
                        built.await;
                        continue;
                    }
                }
            }
            let serving = self.clone();
            let snapshot = arc_swap::Guard::into_inner(snapshot);
            // Dropping the handle (a client gone) does not cancel the build.
            return tokio::task::spawn_blocking(move || serving.build(snapshot, tail))
                .await
                .expect("building a gzip body does not panic");
        }
    }

    fn build(&self, snapshot: Arc<Snapshot>, tail: Bytes) -> GzipParts {
        /// Ends the build even if encoding panicked, so that a later scrape builds again.
        struct Done<'a>(&'a Serving);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.gzip_building.store(false, Ordering::Release);
                self.0.gzip_built.notify_waiters();
            }
        }
        let _done = Done(self);
        let parts = encoded::gzip_with(&snapshot.encoded.text, &tail);
        self.gzip.store(Some(Arc::new(GzipBody {
            snapshot: Arc::downgrade(&snapshot),
            tail,
            parts: parts.clone(),
        })));
        parts
    }

    /// The plain text of the current snapshot followed by `tail`, once it is this scrape's
    /// turn; the snapshot is read then, so a waiting scrape holds none.
    pub(super) async fn plain_with(
        &self,
        current: &ArcSwap<Snapshot>,
        tail: Bytes,
    ) -> Result<PlainBody, Busy> {
        let admitted = self
            .plain_admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy::QueueFull)?;
        let turn = tokio::time::timeout(PLAIN_WAIT, self.plain_renders.clone().acquire_owned())
            .await
            .map_err(|_| Busy::TimedOut)?
            .expect("never closed");
        Ok(PlainBody::new(
            &current.load(),
            tail,
            Some([admitted, turn]),
        ))
    }

    /// The plain text of the current snapshot followed by `tail`, for a HEAD request: its
    /// length is all that is read, so it takes no turn.
    pub(super) fn plain_unsent(&self, current: &ArcSwap<Snapshot>, tail: Bytes) -> PlainBody {
        PlainBody::new(&current.load(), tail, None)
    }
}

/// A plain body as it is sent: the snapshot's text decompressed piece by piece, then the tail.
pub struct PlainBody {
    text: encoded::TextReader,
    text_left: usize,
    tail: Bytes,
    len: u64,
    /// Held until the body is sent or dropped.
    _turn: Option<[OwnedSemaphorePermit; 2]>,
}

impl std::fmt::Debug for PlainBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainBody")
            .field("len", &self.len)
            .field("text_left", &self.text_left)
            .finish_non_exhaustive()
    }
}

impl PlainBody {
    fn new(snapshot: &Snapshot, tail: Bytes, turn: Option<[OwnedSemaphorePermit; 2]>) -> Self {
        let text = &snapshot.encoded.text;
        Self {
            text: text.reader(),
            text_left: text.len(),
            len: (text.len() + tail.len()) as u64,
            tail,
            _turn: turn,
        }
    }

    /// The whole body's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }
}

impl Iterator for PlainBody {
    type Item = Bytes;

    /// The next piece: at most [`PLAIN_CHUNK`] bytes of text, then the tail.
    fn next(&mut self) -> Option<Bytes> {
        if self.text_left == 0 {
            return (!self.tail.is_empty()).then(|| std::mem::take(&mut self.tail));
        }
        let mut piece = vec![0; self.text_left.min(PLAIN_CHUNK)];
        if let Err(e) = self.text.read_exact(&mut piece) {
            // Cannot happen (the gzip was written here); the body then ends short and the
            // connection is closed rather than a wrong text sent.
            tracing::error!(error = %e, "decompressing the snapshot failed");
            self.text_left = 0;
            self.tail = Bytes::new();
            return None;
        }
        self.text_left -= piece.len();
        Some(piece.into())
    }
}

#[cfg(test)]
mod tests;
