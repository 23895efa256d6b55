//! A reusable place for handler futures, so that handling a message allocates nothing.
//!
//! Each message's handler returns a future of its own type. The actor loop awaits exactly
//! one at a time, so instead of boxing every one, it writes each into this buffer, which
//! grows to the largest handler future the actor has seen and is then reused. The future
//! is polled where it lies (the buffer does not move while it is borrowed) and dropped in
//! place. The actor's task detaches the handle to keep a pending handler across polls.

use std::alloc::{self, Layout};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// A growable, aligned buffer that holds at most one future at a time.
pub(crate) struct FutureSlot {
    ptr: NonNull<u8>,
    layout: Layout,
    /// How to poll and drop the future in the slot, if there is one. It lies at `ptr`, or
    /// nowhere for a zero-sized future. Kept here rather than only in its `SlotFuture`, so
    /// that a detached future (or a leaked handle) is still dropped before the slot is
    /// reused or freed.
    live: Option<&'static SlotVTable>,
}

/// The operations on one type of future in a slot.
struct SlotVTable {
    poll: unsafe fn(NonNull<u8>, &mut Context<'_>) -> Poll<()>,
    drop: unsafe fn(NonNull<u8>),
}

struct VTableOf<F>(PhantomData<F>);

impl<F: Future<Output = ()>> VTableOf<F> {
    const VTABLE: &'static SlotVTable = &SlotVTable {
        poll: poll_in_place::<F>,
        drop: drop_in_place::<F>,
    };
}

// SAFETY: the slot owns a plain byte buffer; a future stored in it is only reachable through
// `SlotFuture` (or the unsafe methods below), and `put` requires the future to be `Send`.
unsafe impl Send for FutureSlot {}

impl FutureSlot {
    pub(crate) fn new() -> Self {
        // An empty slot: no allocation until the first future that has a size.
        let layout = Layout::from_size_align(0, 1).expect("valid empty layout");
        Self {
            ptr: NonNull::dangling(),
            layout,
            live: None,
        }
    }

    /// Moves `future` into the slot and returns a handle that polls and drops it there.
    pub(crate) fn put<'a, F>(&'a mut self, future: F) -> SlotFuture<'a>
    where
        F: Future<Output = ()> + Send + 'a,
    {
        // SAFETY: a future still in the slot was either dropped by its handle (then `live` is
        // `None`) or detached, whose owner drops it before what it borrows ends.
        unsafe { self.drop_live() };
        let needed = Layout::new::<F>();
        let ptr = if needed.size() == 0 {
            // Zero-sized futures need no memory, only a well-aligned non-null pointer (the
            // one `poll_in_place` and `drop_in_place` use for them).
            NonNull::<F>::dangling()
        } else {
            self.reserve(needed);
            self.ptr.cast::<F>()
        };
        // SAFETY: `ptr` is valid for writes of `F` (reserve made the buffer at least as large
        // and as aligned as `F`, or `F` is zero-sized) and holds no live value (dropped
        // above).
        unsafe { ptr.as_ptr().write(future) };
        self.live = Some(VTableOf::<F>::VTABLE);
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
    /// [`SlotFuture::detach`] the caller must.
    pub(crate) unsafe fn poll_live(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.live {
            // SAFETY: `live` describes the future at `ptr` (or a zero-sized one), which does
            // not move while it lives in the slot; its borrows are the caller's contract.
            Some(vtable) => unsafe { (vtable.poll)(self.ptr, cx) },
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
            unsafe { (vtable.drop)(self.ptr) };
        }
    }

    fn reserve(&mut self, needed: Layout) {
        if self.layout.size() >= needed.size() && self.layout.align() >= needed.align() {
            return;
        }
        let size = needed.size().max(self.layout.size());
        let align = needed.align().max(self.layout.align());
        let layout = Layout::from_size_align(size, align).expect("handler future layout overflows");
        self.release();
        // SAFETY: `layout` has a non-zero size (`needed` has one).
        let ptr = unsafe { alloc::alloc(layout) };
        self.ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        self.layout = layout;
    }

    fn release(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: `ptr` was allocated with exactly `layout`, and no future lives in it
            // (every caller dropped the live one first).
            unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) };
            self.layout = Layout::from_size_align(0, 1).expect("valid empty layout");
            self.ptr = NonNull::dangling();
        }
    }
}

impl Drop for FutureSlot {
    fn drop(&mut self) {
        // SAFETY: whoever detached a future dropped it before what it borrows, or (as the
        // actor's task does) drops the slot before those.
        unsafe { self.drop_live() };
        self.release();
    }
}

/// A future living in a [`FutureSlot`]; dropping it drops the future in place.
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
    /// what it borrows alive and untouched. This is how the actor's hand-written task keeps
    /// a handler running across polls.
    pub(crate) fn detach(self) {
        std::mem::forget(self);
    }
}

/// # Safety
///
/// `ptr` must point to a live, pinned `F` (any pointer for a zero-sized `F`).
unsafe fn poll_in_place<F: Future<Output = ()>>(
    ptr: NonNull<u8>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let ptr = if std::mem::size_of::<F>() == 0 {
        NonNull::<F>::dangling()
    } else {
        ptr.cast::<F>()
    };
    // SAFETY: the caller guarantees a live `F` at `ptr`; it never moves until dropped in place.
    let future = unsafe { Pin::new_unchecked(&mut *ptr.as_ptr()) };
    future.poll(cx)
}

/// # Safety
///
/// `ptr` must point to a live `F` that is not used again (any pointer for a zero-sized `F`).
unsafe fn drop_in_place<F>(ptr: NonNull<u8>) {
    let ptr = if std::mem::size_of::<F>() == 0 {
        NonNull::<F>::dangling()
    } else {
        ptr.cast::<F>()
    };
    // SAFETY: the caller guarantees a live `F` at `ptr` and gives it up.
    unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
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
    fn a_leaked_handle_still_gets_its_future_dropped_before_reuse() {
        let mut slot = FutureSlot::new();
        let captured = Arc::new(());
        let guard = Arc::clone(&captured);
        std::mem::forget(slot.put(async move {
            let _guard = guard;
        }));
        assert_eq!(Arc::strong_count(&captured), 2, "leaked: not dropped yet");
        assert_eq!(poll_once(slot.put(async {})), Poll::Ready(()));
        assert_eq!(
            Arc::strong_count(&captured),
            1,
            "dropped before the slot was reused"
        );
        let guard = Arc::clone(&captured);
        std::mem::forget(slot.put(async move {
            let _guard = guard;
        }));
        drop(slot);
        assert_eq!(Arc::strong_count(&captured), 1, "dropped with the slot");
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
