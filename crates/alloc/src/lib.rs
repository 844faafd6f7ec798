//! The process allocator of `morgue` and `morgue-bench`: mimalloc, except that a zeroed
//! allocation of [`LARGE`] bytes or more, and less than [`LARGEST`], is mapped fresh from the
//! kernel (`mmap`, on Unix) and given back to it when freed (`munmap`; a few such blocks are
//! kept for the next zeroed allocation of their size).
//!
//! Why: sled 0.34 allocates 37 histograms of 65,536 counters (19 MB) the first time any sled
//! database is opened, metrics compiled out or not. With sled's `miri_optimizations` feature
//! (the workspace enables it) they are zeroed allocations (`vec![0; n]`). Pages fresh from the
//! kernel are zero already and cost nothing until touched — and sled never touches most of
//! them; mimalloc zeroes such an allocation by hand, faulting in every page. That was a quarter
//! of a cold `morgue list` on an archive of 10,000,000 articles (docs/performance.md).
//! Everything else stays with mimalloc, whose speed an import needs. (The system's `calloc`
//! would do the same for sled, but glibc keeps what it frees for later: with every zeroed
//! allocation from 256 KiB up sent to it, a 10M import peaked 90 MB higher.)
//!
//! Which allocator owns a block is known exactly: every mapped block is listed (at most
//! [`LIVE`] at once; past that, zeroed allocations go to mimalloc), and its size stays within
//! the mapped sizes (a [`realloc`](GlobalAlloc::realloc) out of them moves it to mimalloc), so
//! a block freed or resized with another size is mimalloc's, and one of a mapped size is
//! mapped exactly when it is listed. (mimalloc's own `mi_is_in_heap_region` is not exact: it
//! misses segments mimalloc mapped outside its arenas above 48 TiB of address space.)
//!
//! This crate is the workspace's second exception to its `forbid(unsafe_code)` (the other is
//! morgue-zdict's one FFI call): implementing [`GlobalAlloc`] is `unsafe` by nature.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::{Mutex, MutexGuard, PoisonError};

use mimalloc::MiMalloc;

/// Zeroed allocations from this size up (and below [`LARGEST`]) are mapped from the kernel:
/// sled's histograms and the buffers of its segments are 512 KiB each.
pub const LARGE: usize = 256 << 10;

/// Zeroed allocations from this size up stay with mimalloc: tantivy's indexing arena takes
/// pages of 1 MiB zeroed, tens of them for every segment it writes, which mimalloc reuses.
pub const LARGEST: usize = 1 << 20;

/// Mapped blocks alive at once, at most (sled's 37 histograms and a few buffers are what a
/// process has); past that, zeroed allocations go to mimalloc.
pub const LIVE: usize = 256;

/// Mapped blocks freed and kept for the next zeroed allocation of their size (zeroed again
/// then): sled allocates and frees a segment's buffer again and again, which a fresh mapping
/// each time would fault in page by page.
const KEPT: usize = 8;

/// The alignment a fresh mapping has (a page).
const MAP_ALIGN: usize = 4096;

/// The mapped blocks: those alive (addresses, 0 for none) and those kept (address and length,
/// `(0, 0)` for none).
struct Mapped {
    live: [usize; LIVE],
    kept: [(usize, usize); KEPT],
}

static MAPPED: Mutex<Mapped> = Mutex::new(Mapped {
    live: [0; LIVE],
    kept: [(0, 0); KEPT],
});

/// The list of mapped blocks (nothing in it allocates, so the allocator may hold it).
fn mapped() -> MutexGuard<'static, Mapped> {
    MAPPED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// See the [crate] documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct MorgueAlloc;

/// `len` fresh zero bytes from the kernel, page-aligned; null when it refuses.
#[cfg(unix)]
#[allow(unsafe_code)]
fn map(len: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping of `len` bytes at an address the kernel picks: no
    // memory of the process is touched.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        ptr.cast()
    }
}

/// Gives a block of [`map`] back.
///
/// # Safety
///
/// `ptr` must be a block that [`map`] returned for `len` bytes, not used after.
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe fn unmap(ptr: *mut u8, len: usize) {
    // SAFETY: the caller's contract. munmap fails only for arguments that contract excludes.
    unsafe {
        libc::munmap(ptr.cast(), len);
    }
}

/// Elsewhere nothing is mapped ([`maps`] is false).
#[cfg(not(unix))]
fn map(_len: usize) -> *mut u8 {
    std::ptr::null_mut()
}

#[cfg(not(unix))]
#[allow(unsafe_code)]
unsafe fn unmap(_ptr: *mut u8, _len: usize) {}

/// Whether a zeroed allocation of `layout` is mapped.
fn maps(layout: Layout) -> bool {
    cfg!(unix) && is_mapped_size(layout.size()) && layout.align() <= MAP_ALIGN
}

/// Whether a block of `size` bytes may be a mapped one.
fn is_mapped_size(size: usize) -> bool {
    (LARGE..LARGEST).contains(&size)
}

/// A zeroed block of `len` bytes (`maps` says so), listed: one kept, zeroed again, or a fresh
/// mapping. Null when the list is full or the kernel refuses: mimalloc's turn then.
#[allow(unsafe_code)]
fn take_mapped(len: usize) -> *mut u8 {
    let (ptr, reused) = {
        let mut mapped = mapped();
        let Some(slot) = mapped.live.iter().position(|&a| a == 0) else {
            return std::ptr::null_mut();
        };
        let (ptr, reused) = match mapped.kept.iter_mut().find(|(_, l)| *l == len) {
            Some(kept) => (std::mem::take(kept).0 as *mut u8, true),
            None => (map(len), false),
        };
        if ptr.is_null() {
            return ptr;
        }
        mapped.live[slot] = ptr as usize;
        (ptr, reused)
    };
    if reused {
        // SAFETY: a mapped block of `len` bytes, listed as alive for this allocation only.
        unsafe { std::ptr::write_bytes(ptr, 0, len) };
    }
    ptr
}

/// Frees `ptr` when it is a listed mapped block of `len` bytes (kept when there is room, else
/// given back); false, doing nothing, when it is not one.
///
/// # Safety
///
/// `ptr` must be a live block of `len` bytes, not used after when this returns true.
#[allow(unsafe_code)]
unsafe fn release_mapped(ptr: *mut u8, len: usize) -> bool {
    let mut mapped = mapped();
    let Some(slot) = mapped.live.iter().position(|&a| a == ptr as usize) else {
        return false;
    };
    mapped.live[slot] = 0;
    if let Some(kept) = mapped.kept.iter_mut().find(|(a, _)| *a == 0) {
        *kept = (ptr as usize, len);
        return true;
    }
    drop(mapped);
    // SAFETY: a mapped block of `len` bytes (listed, so `map` made it for its size), freed once.
    unsafe { unmap(ptr, len) };
    true
}

/// Whether `ptr` is a listed mapped block.
fn is_mapped(ptr: *mut u8) -> bool {
    mapped().live.contains(&(ptr as usize))
}

// SAFETY: every block is allocated, resized and freed by the allocator that made it (see the
// crate documentation for how that is known); mimalloc upholds `GlobalAlloc`'s contract, and a
// mapped block is page-aligned (at least the alignment it was asked for), zero, and
// `layout.size()` bytes long.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for MorgueAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if maps(layout) {
            let ptr = take_mapped(layout.size());
            if !ptr.is_null() {
                return ptr;
            }
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout` (the caller's contract), not used after.
        if is_mapped_size(layout.size()) && unsafe { release_mapped(ptr, layout.size()) } {
            return;
        }
        // SAFETY: the caller's contract, passed on: a block of mimalloc.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !is_mapped_size(layout.size()) || !is_mapped(ptr) {
            // SAFETY: the caller's contract, passed on to mimalloc, which made the block.
            return unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        }
        // A mapped block: copied into a new block (mapped again when of a mapped size,
        // mimalloc's otherwise, so that every mapped block keeps a mapped size), then freed.
        // SAFETY: `new_size` with the block's alignment is a valid layout, and not zero (the
        // caller's contract for `realloc`).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let mut new = if maps(new_layout) {
            take_mapped(new_size)
        } else {
            std::ptr::null_mut()
        };
        if new.is_null() {
            // SAFETY: as above.
            new = unsafe { MiMalloc.alloc(new_layout) };
        }
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct, each at least the bytes copied; the
            // old one, a listed mapped block of `layout.size()` bytes, is freed once.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                release_mapped(ptr, layout.size());
            }
        }
        new
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const A: MorgueAlloc = MorgueAlloc;

    /// The tests share the process's list of mapped blocks: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[allow(unsafe_code)]
    fn alloc(size: usize, align: usize, zeroed: bool) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, align).unwrap();
        // SAFETY: a layout of non-zero size.
        let ptr = unsafe {
            if zeroed {
                A.alloc_zeroed(layout)
            } else {
                A.alloc(layout)
            }
        };
        assert!(!ptr.is_null());
        assert_eq!(ptr as usize % align, 0);
        (ptr, layout)
    }

    /// The byte the tests write at offset `i`.
    fn pattern(i: usize) -> u8 {
        u8::try_from(i % 251).unwrap()
    }

    #[allow(unsafe_code)]
    fn bytes<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
        // SAFETY: the tests ask only for the bytes of live blocks they allocated.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }

    #[allow(unsafe_code)]
    fn is_mimallocs(ptr: *mut u8) -> bool {
        // SAFETY: a pure lookup of an address (exact for the blocks of these tests).
        unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast_const().cast()) }
    }

    #[test]
    fn large_zeroed_blocks_are_mapped_and_everything_else_is_mimallocs() {
        let _serial = serial();
        let cases = [
            // size, align, zeroed, mapped
            (LARGE, 8, true, true),
            (LARGEST - 4096, 4096, true, true),
            (LARGEST, 8, true, false),
            (LARGE - 1, 8, true, false),
            (LARGE, 8, false, false),
            (4 << 20, 8, false, false),
            (LARGE, 8192, true, false),
            (64, 8, true, false),
        ];
        for (size, align, zeroed, mapped) in cases {
            let (ptr, layout) = alloc(size, align, zeroed);
            assert_eq!(is_mapped(ptr), mapped, "{size} {align} {zeroed}");
            assert_eq!(is_mimallocs(ptr), !mapped, "{size} {align} {zeroed}");
            let block = bytes(ptr, size);
            if zeroed {
                assert!(block.iter().all(|&b| b == 0), "{size} {align}");
            }
            block.fill(0xA5);
            // SAFETY: the block just allocated with this layout.
            #[allow(unsafe_code)]
            unsafe {
                A.dealloc(ptr, layout);
            }
            assert!(!is_mapped(ptr));
        }
    }

    #[test]
    #[allow(unsafe_code)]
    fn a_freed_mapped_block_is_kept_and_zeroed_again_for_the_next_of_its_size() {
        let _serial = serial();
        let size = LARGE + 7 * 4096;
        let (ptr, layout) = alloc(size, 8, true);
        assert!(is_mapped(ptr));
        bytes(ptr, size).fill(0x5A);
        // SAFETY: the block just allocated with this layout.
        unsafe { A.dealloc(ptr, layout) };
        let (again, layout) = alloc(size, 8, true);
        assert_eq!(again, ptr, "the block kept is given again");
        assert!(bytes(again, size).iter().all(|&b| b == 0));
        // SAFETY: as above.
        unsafe { A.dealloc(again, layout) };
    }

    #[test]
    #[allow(unsafe_code)]
    fn past_the_live_bound_zeroed_blocks_go_to_mimalloc() {
        let _serial = serial();
        // One more than can be listed.
        let blocks: Vec<_> = (0..=LIVE).map(|_| alloc(LARGE + 4096, 8, true)).collect();
        let listed = blocks.iter().filter(|(p, _)| is_mapped(*p)).count();
        assert_eq!(listed, LIVE);
        let (last, _) = blocks[LIVE];
        assert!(!is_mapped(last) && is_mimallocs(last));
        for (ptr, layout) in blocks {
            assert!(bytes(ptr, layout.size()).iter().all(|&b| b == 0));
            // SAFETY: each block, with the layout it was allocated with.
            unsafe { A.dealloc(ptr, layout) };
        }
    }

    #[test]
    #[allow(unsafe_code)]
    fn a_mapped_block_keeps_its_bytes_through_realloc_and_moves_to_mimalloc_out_of_range() {
        let _serial = serial();
        for new_small in [1000, LARGEST] {
            let (ptr, layout) = alloc(LARGE, 8, true);
            assert!(is_mapped(ptr));
            for (i, b) in bytes(ptr, LARGE).iter_mut().enumerate() {
                *b = pattern(i);
            }
            // Grown within the mapped sizes: still mapped, the bytes kept.
            let grown = 3 * LARGE;
            // SAFETY: a live block of `layout`, a non-zero new size.
            let ptr = unsafe { A.realloc(ptr, layout, grown) };
            assert!(!ptr.is_null() && is_mapped(ptr));
            assert!(
                bytes(ptr, LARGE)
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == pattern(i))
            );
            // Out of the mapped sizes: moved to mimalloc, the bytes kept.
            let layout = Layout::from_size_align(grown, 8).unwrap();
            // SAFETY: as above.
            let ptr = unsafe { A.realloc(ptr, layout, new_small) };
            assert!(!ptr.is_null() && !is_mapped(ptr) && is_mimallocs(ptr));
            assert!(
                bytes(ptr, new_small.min(LARGE))
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == pattern(i))
            );
            // SAFETY: the block, with the layout it has now.
            unsafe { A.dealloc(ptr, Layout::from_size_align(new_small, 8).unwrap()) };
        }

        // A mimalloc block grown into the mapped sizes stays mimalloc's.
        let (ptr, layout) = alloc(1000, 8, true);
        // SAFETY: as above.
        let ptr = unsafe { A.realloc(ptr, layout, 2 * LARGE) };
        assert!(!ptr.is_null() && !is_mapped(ptr));
        // SAFETY: as above.
        unsafe { A.dealloc(ptr, Layout::from_size_align(2 * LARGE, 8).unwrap()) };
    }
}
