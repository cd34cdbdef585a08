//! Allocator settings that keep resident memory near what the exporter holds.
//!
//! Each publish builds a new snapshot while the old one is still served, and a refresh
//! allocates and frees per answer. With glibc's defaults the freed buffers stay in per-thread
//! arenas and resident memory creeps up; `bench/memory_steady.py` measured, at 10,000 series
//! (when a snapshot still held its 5.6 MB plain text), a steady median of 35.5 MiB with the
//! defaults and 23.4 MiB with one arena and buffers over 256 KiB mapped (and returned) directly.
//! A snapshot is now its gzip only (0.3 MB), so the buffers over 256 KiB are the few large
//! tables of the refresher and the gzip bodies.

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

/// Gives the kernel back the heap pages that are free: glibc returns only the top of the heap
/// by itself, and a refresh leaves free pages throughout it. Called after each publish.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
