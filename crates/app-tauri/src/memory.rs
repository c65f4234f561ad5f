//! Giving memory freed by a burst of work back to the operating system.
//!
//! The app stays open for hours, and its big allocations come in bursts: opening the estate
//! (the model, the index's write-ahead log replayed), building the ask flow (the playbook
//! library indexed), a sync (AWS responses, embedding batches, index writes, spread over the
//! async runtime's and the blocking pool's threads) and an execution (its refresh).
//! glibc's allocator keeps what such a burst freed in its per-thread arenas for reuse, so
//! without help the process stays as large as its largest burst: about 100 MiB more after a
//! seed-sized sync than before it (docs/benchmarks.md). `malloc_trim` hands those free pages
//! back; it is what the allocator would do by itself for memory at the top of the main heap.
//!
//! glibc also gives threads their own arenas, up to eight per core, and the app has many
//! threads (the async runtime's, the blocking pool's, the encoder's, GTK's and WebKit's);
//! each arena keeps its own partly used pages. [`limit_arenas`] caps them at one per core,
//! which is all the parallelism the app has. What it saves, and that the sync's time did not
//! measurably change, is in docs/benchmarks.md.

/// Caps glibc's malloc arenas at one per core (at least two), unless `MALLOC_ARENA_MAX`
/// already says how many. Call first thing in `main`, before other threads have made
/// arenas of their own.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let arenas = i32::try_from(cores.max(2)).unwrap_or(i32::MAX);
        #[allow(unsafe_code)]
        // SAFETY: `mallopt` takes no pointers; glibc serializes changes to its parameters.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns the heap's free pages to the operating system. Takes a few milliseconds for a
/// large heap (it walks every arena), so call it after bursts of work, off the async threads.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` takes no pointers and only changes which free pages the
    // allocator keeps; glibc locks each arena while it trims it, so other threads may
    // allocate meanwhile.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// [`release_freed_memory`] on the blocking pool, for async commands after their burst.
pub async fn release_freed_memory_off_thread() {
    // Nothing to report if the task fails: the memory is merely kept.
    let _ = tauri::async_runtime::spawn_blocking(release_freed_memory).await;
}
