//! The mailbox itself: an intrusive, lock-free, multi-producer single-consumer queue.
//!
//! Each message already travels in a heap node of its own (see `envelope.rs`); the node
//! starts with a [`Header`] whose `next` pointer links it into this queue, so queueing a
//! message allocates nothing more, and an empty mailbox owns no memory beyond a few words
//! in the actor's cell. The algorithm is Dmitry Vyukov's intrusive MPSC queue: a push is
//! one atomic swap and one store, wait-free; a pop touches no shared counter. A pop can find
//! the queue *inconsistent* for the instant between a producer's swap and its link; the
//! consumer then tries again shortly rather than blocking.

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The start of every node in a mailbox.
#[repr(C)]
pub(crate) struct Header {
    next: AtomicPtr<Header>,
    pub(crate) vtable: &'static ErasedVTable,
}

impl Header {
    pub(crate) const fn new(vtable: &'static ErasedVTable) -> Self {
        Self {
            next: AtomicPtr::new(ptr::null_mut()),
            vtable,
        }
    }

    /// Links a node that is out of the queue (a spare) to the next one of its stack.
    pub(crate) fn link_free(&self, next: *mut Header) {
        self.next.store(next, Ordering::Relaxed);
    }

    /// The next spare of a stack linked by [`link_free`](Self::link_free).
    pub(crate) fn next_free(&self) -> Option<NonNull<Header>> {
        NonNull::new(self.next.load(Ordering::Relaxed))
    }
}

/// What a node can do without knowing the actor type: name its message, show its sender's
/// span, and drop itself.
pub(crate) struct ErasedVTable {
    pub(crate) message_type: fn() -> &'static str,
    pub(crate) sender_span: for<'a> unsafe fn(&'a Header) -> Option<&'a tracing::Span>,
    /// Drops the payload and frees the node.
    pub(crate) drop: unsafe fn(NonNull<Header>),
    /// The layout of the whole node, to reuse or free its memory.
    pub(crate) layout: std::alloc::Layout,
}

fn stub_type() -> &'static str {
    "stub"
}

unsafe fn stub_span(_: &Header) -> Option<&tracing::Span> {
    None
}

unsafe fn stub_drop(_: NonNull<Header>) {
    unreachable!("the queue's stub node is never handed out");
}

static STUB: ErasedVTable = ErasedVTable {
    message_type: stub_type,
    sender_span: stub_span,
    drop: stub_drop,
    layout: std::alloc::Layout::new::<Header>(),
};

/// What [`Queue::pop`] found.
pub(crate) enum Pop {
    Node(NonNull<Header>),
    Empty,
    /// A producer is between its swap and its link: a node is coming; try again shortly.
    Inconsistent,
}

/// The queue. Producers call [`push`](Self::push) from any thread; only one consumer at a
/// time may call [`pop`](Self::pop).
///
/// A null `head` or `tail` stands for the embedded stub node, so the queue can be built
/// before it has its final address (it lives inside the actor's reference-counted cell).
#[repr(C)]
pub(crate) struct Queue<G = ()> {
    /// The oldest node (consumer only; atomic merely to be shareable).
    head: AtomicPtr<Header>,
    stub: Header,
    /// What the queue's owner keeps between the consumer's end and the producers' (see
    /// `MailboxCore`, which checks that `head` and `tail` never share a cache line).
    pub(crate) gap: G,
    /// The most recently pushed node (producers swap themselves in here).
    tail: AtomicPtr<Header>,
}

// SAFETY: nodes are handed between threads only through the atomics above; payloads are
// `Send` (checked where envelopes are built); the consumer side is serialised by the
// contract of `pop`.
unsafe impl<G: Send> Send for Queue<G> {}
// SAFETY: as for `Send`: shared access is atomics for producers and `pop`'s contract for the
// one consumer.
unsafe impl<G: Sync> Sync for Queue<G> {}

impl Queue {
    #[cfg(test)]
    pub(crate) const fn new() -> Self {
        Self::with_gap(())
    }
}

impl<G> Queue<G> {
    /// Where `head` (the consumer's end) ends, from the start of the queue.
    pub(crate) const HEAD_END: usize =
        std::mem::offset_of!(Self, head) + std::mem::size_of::<AtomicPtr<Header>>();

    /// Where the gap starts, from the start of the queue.
    pub(crate) const GAP: usize = std::mem::offset_of!(Self, gap);

    /// Where `tail` (the producers' end) starts, from the start of the queue.
    pub(crate) const TAIL: usize = std::mem::offset_of!(Self, tail);

    pub(crate) const fn with_gap(gap: G) -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
            stub: Header::new(&STUB),
            gap,
            tail: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn stub(&self) -> *mut Header {
        ptr::from_ref(&self.stub).cast_mut()
    }

    fn resolve(&self, node: *mut Header) -> *mut Header {
        if node.is_null() {
            self.stub()
        } else {
            node
        }
    }

    /// Appends a node, taking ownership of it.
    ///
    /// The swap is sequentially consistent so that a producer's later look at whether the
    /// consumer is parked cannot be ordered before its push (see `MailboxCore::push`).
    ///
    /// # Safety
    ///
    /// `node` must point to a live node that nothing else references or will free; the
    /// queue must not move for as long as it holds nodes.
    pub(crate) unsafe fn push(&self, node: NonNull<Header>) {
        // SAFETY: the caller hands over a live node.
        unsafe { node.as_ref() }
            .next
            .store(ptr::null_mut(), Ordering::Relaxed);
        let previous = self.resolve(self.tail.swap(node.as_ptr(), Ordering::SeqCst));
        // SAFETY: `previous` is the stub or a node still in the queue: the consumer never
        // hands out the node at the tail (it is the one `pop` calls inconsistent or swaps
        // the stub behind), so it stays live until this link is made.
        unsafe { &*previous }
            .next
            .store(node.as_ptr(), Ordering::Release);
    }

    /// Whether a message is queued behind the ones taken out, as far as the consumer can
    /// tell: `true` means its next pop finds one (or waits a moment for a push midway);
    /// `false` may miss a push that is midway into an otherwise empty queue.
    ///
    /// # Safety
    ///
    /// Only the consumer may call it (it reads the consumer's end).
    pub(crate) unsafe fn has_more(&self) -> bool {
        let head = self.resolve(self.head.load(Ordering::Relaxed));
        // SAFETY: `head` is the stub or a node still in the queue (consumer's contract).
        head != self.stub() || !unsafe { &*head }.next.load(Ordering::Relaxed).is_null()
    }

    /// Takes the oldest node out, if the queue has one ready.
    ///
    /// The loads of `tail` are sequentially consistent: after the consumer announces that it
    /// parks, an `Empty` here means no producer's swap came before that announcement.
    ///
    /// # Safety
    ///
    /// Only one thread at a time may pop (or drain) a queue.
    pub(crate) unsafe fn pop(&self) -> Pop {
        let stub = self.stub();
        let mut head = self.resolve(self.head.load(Ordering::Relaxed));
        // SAFETY (all dereferences below): `head` and its successors are the stub or nodes
        // owned by the queue, which only this (the single) consumer frees or hands out.
        // SAFETY: see above.
        let mut next = unsafe { &*head }.next.load(Ordering::Acquire);
        if head == stub {
            if next.is_null() {
                return if self.resolve(self.tail.load(Ordering::SeqCst)) == stub {
                    Pop::Empty
                } else {
                    Pop::Inconsistent
                };
            }
            self.head.store(next, Ordering::Relaxed);
            head = next;
            // SAFETY: see above.
            next = unsafe { &*head }.next.load(Ordering::Acquire);
        }
        if !next.is_null() {
            self.head.store(next, Ordering::Relaxed);
            // SAFETY: `head` is a node (not the stub), now unlinked from the queue.
            return Pop::Node(unsafe { NonNull::new_unchecked(head) });
        }
        if self.resolve(self.tail.load(Ordering::SeqCst)) != head {
            return Pop::Inconsistent;
        }
        // `head` is the last node: put the stub behind it, so that it can be handed out.
        // SAFETY: the stub is not in the queue right now (head is a real node).
        unsafe { self.push(NonNull::new_unchecked(stub)) };
        // SAFETY: see above.
        next = unsafe { &*head }.next.load(Ordering::Acquire);
        if next.is_null() {
            return Pop::Inconsistent;
        }
        self.head.store(next, Ordering::Relaxed);
        // SAFETY: `head` is a node (not the stub), now unlinked from the queue.
        Pop::Node(unsafe { NonNull::new_unchecked(head) })
    }
}

impl<G> Drop for Queue<G> {
    fn drop(&mut self) {
        // No producer is left (they all hold the cell this queue lives in), so the queue
        // is consistent: free whatever was never taken out.
        // SAFETY: `&mut self`: this is the only consumer.
        while let Pop::Node(node) = unsafe { self.pop() } {
            // SAFETY: a popped node belongs to us; its vtable frees it.
            unsafe { (node.as_ref().vtable.drop)(node) }
        }
    }
}

#[cfg(test)]
#[allow(clippy::undocumented_unsafe_blocks)] // Test nodes: made and freed right here.
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[repr(C)]
    struct TestNode {
        header: Header,
        value: u64,
    }

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    unsafe fn drop_test(node: NonNull<Header>) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        drop(unsafe { Box::from_raw(node.cast::<TestNode>().as_ptr()) });
    }

    static TEST: ErasedVTable = ErasedVTable {
        message_type: stub_type,
        sender_span: stub_span,
        drop: drop_test,
        layout: std::alloc::Layout::new::<TestNode>(),
    };

    fn node(value: u64) -> NonNull<Header> {
        let node = Box::new(TestNode {
            header: Header::new(&TEST),
            value,
        });
        NonNull::from(Box::leak(node)).cast()
    }

    fn take(queue: &Queue) -> Option<u64> {
        loop {
            match unsafe { queue.pop() } {
                Pop::Node(node) => {
                    let node = unsafe { Box::from_raw(node.cast::<TestNode>().as_ptr()) };
                    return Some(node.value);
                }
                Pop::Empty => return None,
                Pop::Inconsistent => std::hint::spin_loop(),
            }
        }
    }

    #[test]
    fn one_thread_gets_its_nodes_back_in_order() {
        let queue = Queue::new();
        assert!(take(&queue).is_none());
        for round in 0..3 {
            for value in 0..5 {
                unsafe { queue.push(node(round * 10 + value)) };
            }
            let got: Vec<_> = std::iter::from_fn(|| take(&queue)).collect();
            assert_eq!(got, (0..5).map(|v| round * 10 + v).collect::<Vec<_>>());
        }
    }

    #[test]
    fn many_producers_lose_nothing_and_keep_each_ones_order() {
        const PRODUCERS: u64 = 4;
        const EACH: u64 = 50_000;
        let queue = Arc::new(Queue::new());
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    for sequence in 0..EACH {
                        unsafe { queue.push(node(producer << 32 | sequence)) };
                    }
                })
            })
            .collect();
        let mut next = [0u64; PRODUCERS as usize];
        let mut received = 0;
        while received < PRODUCERS * EACH {
            if let Some(value) = take(&queue) {
                let (producer, sequence) = ((value >> 32) as usize, value & 0xffff_ffff);
                assert_eq!(sequence, next[producer], "producer {producer} out of order");
                next[producer] += 1;
                received += 1;
            }
        }
        for producer in producers {
            producer.join().unwrap();
        }
        assert!(take(&queue).is_none());
    }

    #[test]
    fn dropping_the_queue_frees_what_is_left() {
        let before = DROPPED.load(Ordering::Relaxed);
        let queue = Queue::new();
        for value in 0..7 {
            unsafe { queue.push(node(value)) };
        }
        assert_eq!(take(&queue), Some(0));
        drop(queue);
        assert_eq!(DROPPED.load(Ordering::Relaxed) - before, 6);
    }
}
