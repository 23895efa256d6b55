//! A reusable place for handler futures, so that handling a message allocates nothing.
//!
//! Each message's handler returns a future of its own type. The actor loop awaits exactly
//! one at a time, so instead of boxing every one, it writes each into this buffer, which
//! grows to the largest handler future the actor has seen and is then reused. The future
//! is polled where it lies (the buffer does not move while it is borrowed) and dropped in
//! place. The actor's task detaches the handle to keep a pending handler across polls.

use std::alloc::{self, Layout};
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// Futures up to this size (and pointer-aligned) live inside the slot itself, so the
/// handlers of small messages need no buffer on the heap at all.
const INLINE: usize = 32;

/// A growable, aligned buffer that holds at most one future at a time.
///
/// A small future lives inline, so the slot must not move while one lives in it: the actor's
/// task, its one user, is pinned.
pub(crate) struct FutureSlot {
    /// The heap buffer for futures too large to live inline (dangling while there is none).
    ptr: NonNull<u8>,
    /// The heap buffer's size and alignment (size 0: none).
    size: u32,
    align: u32,
    /// How to poll and drop the future in the slot, if there is one.
    live: Option<&'static SlotVTable>,
    inline: MaybeUninit<[usize; INLINE / std::mem::size_of::<usize>()]>,
    _pinned: PhantomPinned,
}

/// The operations on one type of future in a slot.
struct SlotVTable {
    poll: unsafe fn(NonNull<u8>, &mut Context<'_>) -> Poll<()>,
    drop: unsafe fn(NonNull<u8>),
    /// Whether this type of future lives inline or in the heap buffer.
    inline: bool,
}

struct VTableOf<F>(PhantomData<F>);

impl<F: Future<Output = ()>> VTableOf<F> {
    const INLINE: bool = std::mem::size_of::<F>() <= INLINE
        && std::mem::align_of::<F>() <= std::mem::align_of::<usize>();
    const VTABLE: &'static SlotVTable = &SlotVTable {
        poll: poll_in_place::<F>,
        drop: drop_in_place::<F>,
        inline: Self::INLINE,
    };
}

// SAFETY: the slot owns a plain byte buffer; a future stored in it is only reachable through
// `SlotFuture` (or the unsafe methods below), and `put` requires the future to be `Send`.
unsafe impl Send for FutureSlot {}

impl FutureSlot {
    pub(crate) fn new() -> Self {
        // An empty slot: no allocation until the first future too large to live inline.
        Self {
            ptr: NonNull::dangling(),
            size: 0,
            align: 1,
            live: None,
            inline: MaybeUninit::uninit(),
            _pinned: PhantomPinned,
        }
    }

    /// Where a future described by `vtable` lives.
    fn location(&mut self, vtable: &SlotVTable) -> NonNull<u8> {
        if vtable.inline {
            // A raw pointer, never a fresh `&mut` to the buffer: that would invalidate the
            // pointers a pinned future there keeps into itself.
            let inline = std::ptr::addr_of_mut!(self.inline).cast::<u8>();
            // SAFETY: a field's address is never null.
            unsafe { NonNull::new_unchecked(inline) }
        } else {
            self.ptr
        }
    }

    /// Moves `future` into the slot and returns a handle that polls and drops it there.
    pub(crate) fn put<'a, F>(&'a mut self, future: F) -> SlotFuture<'a>
    where
        F: Future<Output = ()> + Send + 'a,
    {
        // A future still here was leaked (its handle forgotten) or detached and never
        // dropped: what it borrows may be gone, so it is forgotten, not dropped, as a leak.
        self.live = None;
        let vtable = VTableOf::<F>::VTABLE;
        if !vtable.inline {
            self.reserve(Layout::new::<F>());
        }
        let ptr = self.location(vtable).cast::<F>();
        // SAFETY: `ptr` is valid for writes of `F`: the inline buffer is large and aligned
        // enough for an inline `F`, and `reserve` made the heap buffer so for any other. It
        // holds no live value (dropped above).
        unsafe { ptr.as_ptr().write(future) };
        self.live = Some(vtable);
        SlotFuture {
            slot: self,
            _borrows: PhantomData,
        }
    }

    /// Polls the future in the slot; `Ready` if there is none.
    ///
    /// # Safety
    ///
    /// Everything the future borrows is still alive and not used elsewhere: a handle from
    /// [`put`](Self::put) guarantees this by its lifetime; after
    /// [`SlotFuture::detach`] the caller must. The slot has not moved since `put`.
    pub(crate) unsafe fn poll_live(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.live {
            // SAFETY: `live` describes the future at its location, which does not move
            // while it lives in the slot; its borrows are the caller's contract.
            Some(vtable) => unsafe { (vtable.poll)(self.location(vtable), cx) },
            None => Poll::Ready(()),
        }
    }

    /// Drops the future in the slot, if there is one.
    ///
    /// # Safety
    ///
    /// As for [`poll_live`](Self::poll_live): its drop may use what it borrows.
    pub(crate) unsafe fn drop_live(&mut self) {
        if let Some(vtable) = self.live.take() {
            // SAFETY: `vtable` describes the future `put` wrote, which nothing dropped yet
            // (`take` makes this its only drop, even if the drop panics).
            unsafe { (vtable.drop)(self.location(vtable)) };
        }
    }

    fn reserve(&mut self, needed: Layout) {
        let (size, align) = (self.size as usize, self.align as usize);
        if size >= needed.size() && align >= needed.align() {
            return;
        }
        let layout = Layout::from_size_align(needed.size().max(size), needed.align().max(align))
            .expect("handler future layout overflows");
        let (Ok(new_size), Ok(new_align)) =
            (u32::try_from(layout.size()), u32::try_from(layout.align()))
        else {
            panic!("a handler future of {} bytes is too large", layout.size());
        };
        self.release();
        // SAFETY: `layout` has a non-zero size (`needed` has one: zero-sized futures live
        // inline).
        let ptr = unsafe { alloc::alloc(layout) };
        self.ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        self.size = new_size;
        self.align = new_align;
    }

    fn release(&mut self) {
        if self.size != 0 {
            // SAFETY: `ptr` was allocated with exactly this size and alignment (checked when
            // made), and no future lives in it (every caller dropped the live one first).
            unsafe {
                alloc::dealloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.size as usize, self.align as usize),
                )
            };
            self.size = 0;
            self.align = 1;
            self.ptr = NonNull::dangling();
        }
    }
}

impl Drop for FutureSlot {
    fn drop(&mut self) {
        // A future still here is forgotten, as in `put`: only its handle or the owner of a
        // detached future (through `drop_live`) may drop it, while what it borrows lives.
        self.live = None;
        self.release();
    }
}

/// A future living in a [`FutureSlot`]; dropping it drops the future in place (forgetting
/// it leaks the future: the slot then never drops it).
pub(crate) struct SlotFuture<'a> {
    /// Borrowed, so nothing else is written into the slot while the future lives.
    slot: &'a mut FutureSlot,
    /// The future may borrow anything that lives for `'a`.
    _borrows: PhantomData<&'a mut ()>,
}

// SAFETY: `FutureSlot::put` only accepts `Send` futures.
unsafe impl Send for SlotFuture<'_> {}

impl SlotFuture<'_> {
    /// Leaves the future in its slot without this handle, to be polled and dropped through
    /// [`FutureSlot::poll_live`] and [`FutureSlot::drop_live`], whose callers then keep
    /// what it borrows alive and untouched, and the slot where it is. This is how the
    /// actor's hand-written task keeps a handler running across polls. A detached future
    /// that is never dropped that way is leaked, never dropped late.
    pub(crate) fn detach(self) {
        std::mem::forget(self);
    }
}

/// # Safety
///
/// `ptr` must point to a live, pinned `F`.
unsafe fn poll_in_place<F: Future<Output = ()>>(
    ptr: NonNull<u8>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    // SAFETY: the caller guarantees a live `F` at `ptr`; it never moves until dropped in place.
    let future = unsafe { Pin::new_unchecked(&mut *ptr.cast::<F>().as_ptr()) };
    future.poll(cx)
}

/// # Safety
///
/// `ptr` must point to a live `F` that is not used again.
unsafe fn drop_in_place<F>(ptr: NonNull<u8>) {
    // SAFETY: the caller guarantees a live `F` at `ptr` and gives it up.
    unsafe { std::ptr::drop_in_place(ptr.cast::<F>().as_ptr()) };
}

impl Future for SlotFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the future written by `put` is live until this handle is dropped, and
        // everything it borrows outlives `'a`, which this handle holds.
        unsafe { self.get_mut().slot.poll_live(cx) }
    }
}

impl Drop for SlotFuture<'_> {
    fn drop(&mut self) {
        // SAFETY: as in `poll`.
        unsafe { self.slot.drop_live() };
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use super::FutureSlot;

    struct NoopWake;
    impl Wake for NoopWake {
        fn wake(self: Arc<Self>) {}
    }

    fn poll_once(future: impl Future<Output = ()>) -> Poll<()> {
        let waker = Waker::from(Arc::new(NoopWake));
        pin!(future).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn futures_of_growing_size_and_alignment_run_and_drop_in_the_slot() {
        let mut slot = FutureSlot::new();
        let dropped = Arc::new(());
        for round in 0..3 {
            let big = [round as u8; 64];
            let guard = Arc::clone(&dropped);
            let mut total = 0u64;
            let future = slot.put(async move {
                let _guard = guard;
                let aligned = 0u128;
                total += big.iter().map(|&byte| u64::from(byte)).sum::<u64>() + aligned as u64;
                assert_eq!(total, 64 * round);
            });
            assert_eq!(poll_once(future), Poll::Ready(()));
            assert_eq!(
                Arc::strong_count(&dropped),
                1,
                "the future and its captures were dropped"
            );
        }
        let small = slot.put(async {});
        assert_eq!(poll_once(small), Poll::Ready(()));
    }

    #[test]
    fn a_leaked_handle_leaks_its_future_and_the_slot_stays_usable() {
        let captured = Arc::new(());
        let mut slot = FutureSlot::new();
        let guard = Arc::clone(&captured);
        std::mem::forget(slot.put(async move {
            let _guard = guard;
        }));
        // What a leaked future borrows may be gone by now: the slot never drops it.
        assert_eq!(poll_once(slot.put(async {})), Poll::Ready(()));
        assert_eq!(Arc::strong_count(&captured), 2, "leaked, not dropped late");
        let large = [0u8; 64];
        let guard = Arc::clone(&captured);
        std::mem::forget(slot.put(async move {
            let _guard = guard;
            assert_eq!(large.len(), 64);
        }));
        drop(slot);
        assert_eq!(Arc::strong_count(&captured), 3, "leaked with the slot too");
    }

    #[test]
    fn small_futures_live_inline_and_large_ones_on_the_heap() {
        let mut slot = FutureSlot::new();
        let waker = Waker::from(Arc::new(NoopWake));
        let mut cx = Context::from_waker(&waker);
        // A future that borrows its own local across an await must not move while it waits.
        let mut small = slot.put(async {
            let value = 7u8;
            let borrowed = &value;
            tokio::task::yield_now().await;
            assert_eq!(*borrowed, 7);
        });
        assert!(std::pin::Pin::new(&mut small).poll(&mut cx).is_pending());
        assert_eq!(
            std::pin::Pin::new(&mut small).poll(&mut cx),
            Poll::Ready(())
        );
        drop(small);
        assert_eq!(slot.size, 0, "the small future took no heap buffer");
        let large = [1u8; 64];
        let mut big = slot.put(async move {
            let borrowed = &large;
            tokio::task::yield_now().await;
            assert_eq!(borrowed.len(), 64);
        });
        assert!(std::pin::Pin::new(&mut big).poll(&mut cx).is_pending());
        assert_eq!(std::pin::Pin::new(&mut big).poll(&mut cx), Poll::Ready(()));
        drop(big);
        assert!(slot.size >= 64, "a large future takes a heap buffer");
    }

    #[test]
    fn a_pending_future_is_dropped_in_place_when_its_handle_is() {
        let mut slot = FutureSlot::new();
        let captured = Arc::new(());
        let guard = Arc::clone(&captured);
        let future = slot.put(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        let mut future = future;
        let waker = Waker::from(Arc::new(NoopWake));
        assert!(std::pin::Pin::new(&mut future)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(future);
        assert_eq!(Arc::strong_count(&captured), 1);
        // The slot is reusable afterwards.
        assert_eq!(poll_once(slot.put(async {})), Poll::Ready(()));
    }
}
