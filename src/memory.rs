//! Allocator settings that keep resident memory near what the exporter holds.
//!
//! Each publish builds a new snapshot while the old one is still served, and a refresh
//! allocates and frees per answer. With glibc's defaults the freed buffers stay in per-thread
//! arenas and resident memory creeps up; `bench/memory_steady.py` measured, at 10,000 series
//! (when a snapshot still held its 5.6 MB plain text), a steady median of 35.5 MiB with the
//! defaults and 23.4 MiB with one arena and buffers over 256 KiB mapped (and returned) directly.
//! A snapshot is now its compressed text only (0.3 MB), so the buffers over 256 KiB are the few
//! large tables of the refresher and the snapshots' compressed texts, which gzip bodies share.

/// Applies the settings; call once at start, before other threads run.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
    }
}

/// Returns freed heap pages to the system, after a burst of connections has closed: their
/// buffers would otherwise stay resident. At most every few seconds, so a stream of short
/// connections does not pay for it each time.
pub fn give_back() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if last.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
        return;
    }
    *last = Some(Instant::now());
    release_freed();
}

/// Gives the kernel back the heap pages that are free: glibc returns only the top of the heap
/// by itself, and a refresh leaves free pages throughout it. Called after each publish.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
