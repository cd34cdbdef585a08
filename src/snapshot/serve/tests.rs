use std::io::Read;

use futures_util::FutureExt;

use super::*;
use crate::snapshot::{Encoded, SnapshotCell};

fn text_of(len: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while text.len() < len {
        text.extend_from_slice(format!("m{{i=\"{i}\"}} {}\n", i * 7919 % 1000).as_bytes());
        i += 1;
    }
    text
}

fn cell_with(text: &[u8]) -> SnapshotCell {
    let cell = SnapshotCell::default();
    cell.publish(Snapshot {
        encoded: Encoded::new(text.to_vec()),
    });
    cell
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("one valid gzip member");
    out
}

fn joined(text: &[u8], tail: &[u8]) -> Vec<u8> {
    [text, tail].concat()
}

#[tokio::test]
async fn a_plain_body_comes_in_pieces_of_at_most_a_chunk_then_the_tail() {
    let text = text_of(3 * PLAIN_CHUNK + 100);
    let cell = cell_with(&text);
    let body = cell
        .plain_with(Bytes::from_static(b"live 1\n"))
        .now_or_never()
        .expect("a turn is free")
        .expect("not busy");
    assert_eq!(body.len(), (text.len() + 7) as u64);
    let pieces: Vec<Bytes> = body.collect();
    assert_eq!(pieces.len(), 5, "4 pieces of text and the tail");
    assert!(pieces.iter().all(|p| p.len() <= PLAIN_CHUNK));
    assert_eq!(pieces.concat(), joined(&text, b"live 1\n"));
}

#[tokio::test]
async fn a_head_request_needs_no_turn() {
    let text = text_of(1000);
    let cell = cell_with(&text);
    let _held: Vec<PlainBody> = (0..PLAIN_RENDERS)
        .map(|_| {
            cell.plain_with(Bytes::new())
                .now_or_never()
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(
        cell.plain_unsent(Bytes::from_static(b"x 1\n")).len(),
        text.len() as u64 + 4
    );
}

/// The bound on plain scrapes: [`PLAIN_RENDERS`] bodies at a time, [`PLAIN_WAITING`] waiting,
/// the rest refused at once, waiters refused after [`PLAIN_WAIT`]; gzip scrapes meanwhile
/// are served as usual. Nothing here depends on timing: tasks are run with `yield_now`, and
/// the clock is paused before waiting out [`PLAIN_WAIT`].
#[tokio::test]
async fn a_burst_of_plain_scrapes_is_bounded_and_gzip_scrapes_still_served() {
    async fn run_others() {
        for _ in 0..PLAIN_WAITING * 4 {
            tokio::task::yield_now().await;
        }
    }
    let text = text_of(2 * PLAIN_CHUNK);
    let cell = cell_with(&text);
    let mut sending: Vec<PlainBody> = Vec::new();
    for _ in 0..PLAIN_RENDERS {
        let body = cell.plain_with(Bytes::new()).now_or_never();
        sending.push(body.expect("a turn is free").expect("not busy"));
    }
    // The next ones wait for a turn...
    let waiting: Vec<_> = (0..PLAIN_WAITING)
        .map(|_| {
            let cell = cell.clone();
            tokio::spawn(async move { cell.plain_with(Bytes::new()).await })
        })
        .collect();
    run_others().await;
    assert!(waiting.iter().all(|w| !w.is_finished()));
    // ...and beyond those, a plain scrape is refused at once.
    assert_eq!(
        cell.plain_with(Bytes::new()).now_or_never().unwrap().err(),
        Some(Busy::QueueFull)
    );
    // gzip scrapes do not queue behind them.
    let body = cell.gzip_with(Bytes::from_static(b"live 1\n")).await;
    assert_eq!(gunzip(&body.concat()), joined(&text, b"live 1\n"));

    // A body sent (or dropped) gives its turn to one waiting scrape.
    drop(sending.pop());
    run_others().await;
    assert_eq!(waiting.iter().filter(|w| w.is_finished()).count(), 1);
    // The others, still waiting after PLAIN_WAIT, are refused.
    tokio::time::pause();
    tokio::time::sleep(PLAIN_WAIT).await;
    let mut served = Vec::new();
    let mut refused = Vec::new();
    for w in waiting {
        match w.await.unwrap() {
            Ok(body) => served.push(body),
            Err(e) => refused.push(e),
        }
    }
    assert_eq!(served.len(), 1);
    assert_eq!(refused, vec![Busy::TimedOut; PLAIN_WAITING - 1]);
    // Turns free again, a plain scrape is served.
    drop((sending, served));
    let body = cell.plain_with(Bytes::new()).await.unwrap();
    assert_eq!(body.collect::<Vec<_>>().concat(), text);
}

#[tokio::test]
async fn the_gzip_body_is_shared_until_the_snapshot_or_the_tail_changes() {
    let cell = cell_with(b"a 1\n");
    let tail = Bytes::from_static(b"live 1\n");
    let first = cell.gzip_with(tail.clone()).await;
    assert_eq!(gunzip(&first.concat()), b"a 1\nlive 1\n");
    let again = cell.gzip_with(Bytes::from(b"live 1\n".to_vec())).await;
    assert_eq!(
        first[2].as_ptr(),
        again[2].as_ptr(),
        "the same bytes, not a copy"
    );

    let new_tail = cell.gzip_with(Bytes::from_static(b"live 2\n")).await;
    assert_eq!(gunzip(&new_tail.concat()), b"a 1\nlive 2\n");

    cell.publish(Snapshot {
        encoded: Encoded::new(b"b 2\n".to_vec()),
    });
    let new_snapshot = cell.gzip_with(Bytes::from_static(b"live 2\n")).await;
    assert_eq!(gunzip(&new_snapshot.concat()), b"b 2\nlive 2\n");
}

#[tokio::test]
async fn while_a_gzip_body_is_built_scrapes_get_the_previous_one() {
    let cell = cell_with(b"a 1\n");
    let previous = cell.gzip_with(Bytes::from_static(b"live 1\n")).await;
    cell.serving.gzip_building.store(true, Ordering::Release);
    let during = cell.gzip_with(Bytes::from_static(b"live 2\n")).await;
    assert_eq!(during[2].as_ptr(), previous[2].as_ptr());
    cell.serving.gzip_building.store(false, Ordering::Release);
    let after = cell.gzip_with(Bytes::from_static(b"live 2\n")).await;
    assert_eq!(gunzip(&after.concat()), b"a 1\nlive 2\n");
}

#[tokio::test]
async fn the_first_gzip_scrapes_wait_for_the_first_body() {
    let cell = cell_with(b"a 1\n");
    cell.serving.gzip_building.store(true, Ordering::Release);
    let waiting = {
        let cell = cell.clone();
        tokio::spawn(async move { cell.gzip_with(Bytes::from_static(b"live 1\n")).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    // The build in progress ends (as `build` ends one) without a body for this tail: the
    // waiting scrape then builds its own.
    cell.serving.gzip_building.store(false, Ordering::Release);
    cell.serving.gzip_built.notify_waiters();
    assert_eq!(gunzip(&waiting.await.unwrap().concat()), b"a 1\nlive 1\n");
}
