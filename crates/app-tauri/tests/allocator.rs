//! The allocator settings `cloudops-desktop` starts with (`memory::configure_allocator`), in
//! a process of their own: glibc's parameters are global.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn blocks_from_256_kib_get_their_own_mapping_even_after_larger_ones_were_freed() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        eprintln!("skipped: MALLOC_MMAP_THRESHOLD_ is set, and the app leaves it alone");
        return;
    }
    cloudops_desktop::memory::configure_allocator();
    // Left to itself, glibc would serve blocks of up to 8 MiB from its heaps after this.
    drop(std::hint::black_box(vec![1u8; 8 << 20]));
    let before = mapped_blocks();
    let block = std::hint::black_box(vec![1u8; 512 << 10]);
    assert_eq!(mapped_blocks(), before + 1, "a 512 KiB block should have a mapping of its own");
    drop(block);
    assert_eq!(mapped_blocks(), before, "and give it back when freed");
    let small = std::hint::black_box(vec![1u8; 128 << 10]);
    assert_eq!(mapped_blocks(), before, "a 128 KiB block comes from the heap");
    drop(small);
}

/// How many blocks glibc currently serves from mappings of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn mapped_blocks() -> usize {
    #[allow(unsafe_code)]
    // SAFETY: `mallinfo2` takes no arguments and returns a plain struct of counters.
    unsafe { libc::mallinfo2() }.hblks
}
