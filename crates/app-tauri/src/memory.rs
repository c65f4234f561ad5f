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
//! each arena keeps its own partly used pages. [`configure_allocator`] caps them at one per
//! core, which is all the parallelism the app has.
//!
//! It also fixes the size from which an allocation gets a mapping of its own (returned to the
//! system the moment it is freed) at 256 KiB. glibc starts at 128 KiB, but raises that size
//! to the largest mapped block freed so far (up to 32 MiB): after the first sync has freed its
//! large buffers (response pages, embedding batches, index writes), blocks of hundreds of KiB
//! to megabytes are carved out of the heaps instead, among the small long-lived allocations
//! made meanwhile, which then pin those pages: `malloc_trim` cannot hand them back. With the
//! size fixed, the app's resident memory after a sync and after the searches is about
//! 20 MiB lower; a full sync's index phase takes about 3 s longer, the price of fresh pages
//! for every embedding batch's tensors (measurements in docs/benchmarks.md).

/// What [`configure_allocator`] fixes: allocations of at least this many bytes are mapped on
/// their own and unmapped when freed.
pub const OWN_MAPPING_BYTES: i32 = 256 * 1024;

/// Caps glibc's malloc arenas at one per core (at least two) and fixes the size from which
/// allocations get their own mapping at [`OWN_MAPPING_BYTES`] (see the module's
/// documentation), each unless the environment (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`
/// or `GLIBC_TUNABLES`) already says. Call first thing in `main`, before other threads have
/// made arenas of their own.
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let given = |variable: &str, tunable: &str| {
            std::env::var_os(variable).is_some() || tunables.contains(tunable)
        };
        if !given("MALLOC_ARENA_MAX", "malloc.arena_max") {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
            let arenas = i32::try_from(cores.max(2)).unwrap_or(i32::MAX);
            #[allow(unsafe_code)]
            // SAFETY: `mallopt` takes no pointers; glibc serializes changes to its parameters.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
            }
        }
        if !given("MALLOC_MMAP_THRESHOLD_", "malloc.mmap_threshold") {
            #[allow(unsafe_code)]
            // SAFETY: as above.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_BYTES);
            }
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
