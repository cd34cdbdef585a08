//! A response body sent as a few shared buffers (a scrape copies no series bytes), or as pieces
//! made as it is sent (a plain scrape, decompressed on demand).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use crate::snapshot::PlainBody;

#[derive(Debug, Default)]
pub struct Chunks {
    source: Source,
    remaining: u64,
    /// A made piece was just sent: give the thread to other tasks before making the next.
    yield_next: bool,
}

#[derive(Debug)]
enum Source {
    Parts(VecDeque<Bytes>),
    Made(Box<PlainBody>),
    /// Nothing to send: a HEAD response of `remaining` bytes.
    Unsent,
}

impl Default for Source {
    fn default() -> Self {
        Self::Parts(VecDeque::new())
    }
}

impl Chunks {
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let parts: VecDeque<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let remaining = parts.iter().map(|p| p.len() as u64).sum();
        Self {
            source: Source::Parts(parts),
            remaining,
            yield_next: false,
        }
    }

    pub fn text(text: impl Into<Bytes>) -> Self {
        Self::new([text.into()])
    }

    /// A plain scrape's body, made piece by piece as the client takes it: each poll makes at
    /// most one piece, then yields, so a long body does not hold a runtime thread.
    pub fn made(body: PlainBody) -> Self {
        Self {
            remaining: body.len(),
            source: Source::Made(Box::new(body)),
            yield_next: false,
        }
    }

    /// The body of a HEAD response: its length (hyper sends `Content-Length` from it) and no
    /// bytes, which hyper never asks for after a HEAD request.
    pub fn unsent(len: u64) -> Self {
        Self {
            source: Source::Unsent,
            remaining: len,
            yield_next: false,
        }
    }
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let next = match &mut this.source {
            Source::Parts(parts) => parts.pop_front(),
            Source::Made(_) if this.yield_next => {
                this.yield_next = false;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Source::Made(body) => {
                this.yield_next = true;
                body.next()
            }
            Source::Unsent => None,
        };
        match &next {
            Some(part) => this.remaining -= part.len() as u64,
            None => this.remaining = 0,
        }
        Poll::Ready(next.map(|part| Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        match &self.source {
            Source::Parts(parts) => parts.is_empty(),
            // Not at its end for hyper, or it would not send the length.
            Source::Made(_) | Source::Unsent => self.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
