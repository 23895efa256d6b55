//! The memory of handled messages, kept for the next messages instead of the allocator.
//!
//! Every message travels in a heap node that its sender allocates and its actor is done
//! with once the payload is moved out. Freed by the actor, a node would go back to the
//! allocator from another thread than the one that took it, once per message (`malloc`
//! and `free` were 17-32% of a stream's profile). Here nodes travel back to the senders
//! in two stacks:
//!
//! - the actor pushes each node it is done with onto the *returned* stack (one
//!   compare-and-swap), up to [`RETURN_CAP`] nodes; working through a queue of an
//!   unbounded mailbox, it gathers them first and pushes a run of them with one exchange
//!   (see `MailboxReceiver::recycle`);
//! - a sender takes a node from the *ready* stack, under a try-lock (one uncontended swap
//!   with a single sender; the actor takes it too, to free the stack); when that is
//!   empty, it takes the whole
//!   returned stack, keeps its top and moves the rest to `ready`. So a stream of messages
//!   touches the actor's line once per run of nodes, not once per message, and an ask's or
//!   a ping-pong's one node goes straight back to the next message, without the lock;
//! - an actor that waits (for mail, in a handler or in a lifecycle step) frees the ready
//!   stack, and the returned one but for a node if it holds more than [`IDLE_KEEP`]: a
//!   waiting or finished actor keeps a few nodes at most. (A sender that
//!   takes the returned stack just as the actor starts waiting can leave the rest on
//!   `ready`; the message it sends wakes the actor, whose next wait frees them.)
//!
//! A sender that finds the lock taken (held for a few instructions) allocates instead of
//! waiting.

use std::alloc::Layout;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU16, Ordering};

use super::queue::Header;

/// The most nodes the returned stack holds; the actor frees what comes beyond.
const RETURN_CAP: u16 = 128;

/// The most nodes an idle actor keeps on its returned stack. Past it, the actor going
/// idle frees all but one (an actor that handles one message at a time keeps one).
const IDLE_KEEP: u16 = 8;

/// The spare nodes of one mailbox.
pub(crate) struct Spares {
    /// Nodes the actor is done with, linked through their headers.
    returned: AtomicPtr<Header>,
    /// Nodes taken over by the senders, handed out one at a time under `lock`.
    ready: AtomicPtr<Header>,
    /// How many nodes are on `returned`, as of the actor's last push: only the actor
    /// writes it, and a push onto an empty stack (senders took it) counts from zero.
    returned_count: AtomicU16,
    /// Held by a sender (or the idle actor) while it works on `ready`.
    lock: AtomicBool,
}

impl Spares {
    pub(crate) const fn new() -> Self {
        Self {
            returned: AtomicPtr::new(ptr::null_mut()),
            ready: AtomicPtr::new(ptr::null_mut()),
            returned_count: AtomicU16::new(0),
            lock: AtomicBool::new(false),
        }
    }

    /// Memory of exactly `layout` for a new message, if a handled message left some.
    pub(crate) fn take(&self, layout: Layout) -> Option<NonNull<Header>> {
        let node = if self.ready.load(Ordering::Relaxed).is_null() {
            self.take_returned()?
        } else {
            self.take_ready()?
        };
        // SAFETY: the node is ours now, its header intact.
        if unsafe { node.as_ref() }.vtable.layout == layout {
            Some(node)
        } else {
            // A node of another message type: no use here.
            // SAFETY: the node is ours, its payload moved out.
            unsafe { free_node(node) };
            None
        }
    }

    /// Takes the whole returned stack: its top for the caller, the rest for `ready`. No
    /// lock: an ask's or a ping-pong's stack is the one node the actor just handed back.
    fn take_returned(&self) -> Option<NonNull<Header>> {
        if self.returned.load(Ordering::Relaxed).is_null() {
            return None;
        }
        let top = NonNull::new(self.returned.swap(ptr::null_mut(), Ordering::Acquire))?;
        // SAFETY: the stack is ours now.
        if let Some(rest) = unsafe { top.as_ref() }.next_free() {
            // Installed only into an empty `ready`: a sender popping under the lock saw
            // it non-empty, so the two never cross.
            if self
                .ready
                .compare_exchange(
                    ptr::null_mut(),
                    rest.as_ptr(),
                    Ordering::Release,
                    Ordering::Relaxed,
                )
                .is_err()
            {
                // SAFETY: the rest is still ours.
                unsafe { free_chain(rest) };
            }
        }
        Some(top)
    }

    /// Pops one node from `ready`, under the lock (popping one node from a shared stack
    /// needs it). `None` if another sender holds the lock, or the stack was emptied.
    fn take_ready(&self) -> Option<NonNull<Header>> {
        if self.lock.swap(true, Ordering::Acquire) {
            return None;
        }
        let top = NonNull::new(self.ready.load(Ordering::Acquire));
        if let Some(top) = top {
            // SAFETY: nodes on `ready` stay there until popped under the lock, which
            // this sender holds.
            let rest = unsafe { top.as_ref() }
                .next_free()
                .map_or(ptr::null_mut(), NonNull::as_ptr);
            self.ready.store(rest, Ordering::Relaxed);
        }
        self.lock.store(false, Ordering::Release);
        top
    }

    /// Keeps a node the actor is done with for its senders, or frees it if enough are
    /// kept.
    ///
    /// # Safety
    ///
    /// Only the mailbox's one receiver may call it, with an owned node allocated with its
    /// header's layout, payload already moved out.
    pub(crate) unsafe fn give(&self, node: NonNull<Header>) {
        // SAFETY: forwarded to the caller.
        unsafe { self.push(node, node, 1) };
    }

    /// Pushes a chain of nodes the actor is done with onto the returned stack in one
    /// exchange, or frees it if the stack would grow past [`RETURN_CAP`].
    ///
    /// # Safety
    ///
    /// As for [`give`](Self::give), for every node of the chain, which ends in a null
    /// link.
    pub(crate) unsafe fn hand_back(&self, chain: NonNull<Header>) {
        let (mut last, mut count) = (chain, 1);
        // SAFETY: the chain is ours (caller's contract).
        while let Some(next) = unsafe { last.as_ref() }.next_free() {
            (last, count) = (next, count + 1);
        }
        // SAFETY: forwarded to the caller.
        unsafe { self.push(chain, last, count) };
    }

    /// Pushes the chain from `first` to `last`, `count` nodes, onto the returned stack, or
    /// frees it if the stack would grow past [`RETURN_CAP`].
    ///
    /// # Safety
    ///
    /// As for [`hand_back`](Self::hand_back); `last`'s own link may be anything.
    #[inline(always)]
    unsafe fn push(&self, first: NonNull<Header>, last: NonNull<Header>, count: u16) {
        let mut top = self.returned.load(Ordering::Relaxed);
        // Senders only ever take the whole stack: an empty one starts the count again.
        let mut depth = if top.is_null() {
            0
        } else {
            self.returned_count.load(Ordering::Relaxed)
        };
        loop {
            if depth + count > RETURN_CAP {
                // SAFETY: the chain is ours; its end may be linked to the stack, which is
                // not.
                unsafe {
                    last.as_ref().link_free(ptr::null_mut());
                    free_chain(first);
                }
                return;
            }
            // SAFETY: the chain is ours until the exchange below publishes it.
            unsafe { last.as_ref() }.link_free(top);
            // No ABA: only the actor pushes, and senders only take the whole stack, so
            // a failed exchange means a sender just emptied it.
            match self.returned.compare_exchange_weak(
                top,
                first.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => {
                    top = actual;
                    if top.is_null() {
                        depth = 0;
                    }
                }
            }
        }
        self.returned_count.store(depth + count, Ordering::Relaxed);
    }

    /// Called by the actor as it starts waiting: frees the nodes the senders took over but
    /// did not use, and, past [`IDLE_KEEP`] returned nodes, all of them but one.
    ///
    /// # Safety
    ///
    /// Only the mailbox's one receiver may call it.
    pub(crate) unsafe fn settle(&self) {
        self.free_ready();
        if self.returned_count.load(Ordering::Relaxed) <= IDLE_KEEP {
            return;
        }
        let Some(top) = NonNull::new(self.returned.swap(ptr::null_mut(), Ordering::Acquire)) else {
            return;
        };
        // SAFETY: the stack is ours now.
        let rest = unsafe { top.as_ref() }.next_free();
        // SAFETY: the top node is ours, and this is the receiver (caller's contract); the
        // stack is empty, so it counts from zero again.
        unsafe { self.give(top) };
        if let Some(rest) = rest {
            // SAFETY: the rest of the stack is ours.
            unsafe { free_chain(rest) };
        }
    }

    /// Frees the nodes the senders took over, unless a sender holds the lock right now
    /// (then it is sending, and the actor's next going idle frees them).
    fn free_ready(&self) {
        if self.ready.load(Ordering::Relaxed).is_null() || self.lock.swap(true, Ordering::Acquire) {
            return;
        }
        let ready = self.ready.swap(ptr::null_mut(), Ordering::Relaxed);
        self.lock.store(false, Ordering::Release);
        if let Some(ready) = NonNull::new(ready) {
            // SAFETY: the stack was the senders', and is ours now.
            unsafe { free_chain(ready) };
        }
    }
}

impl Drop for Spares {
    fn drop(&mut self) {
        for stack in [*self.returned.get_mut(), *self.ready.get_mut()] {
            if let Some(stack) = NonNull::new(stack) {
                // SAFETY: the mailbox owns its spares; no sender or actor is left.
                unsafe { free_chain(stack) };
            }
        }
    }
}

/// Frees a node's memory (not its payload) with the layout its header names.
///
/// # Safety
///
/// `node` must be owned, allocated with its header's layout, its payload moved out.
unsafe fn free_node(node: NonNull<Header>) {
    // SAFETY: caller's contract; the layout is read before the memory goes.
    unsafe {
        let layout = node.as_ref().vtable.layout;
        std::alloc::dealloc(node.as_ptr().cast(), layout);
    }
}

/// Frees every node of a chain linked through the headers.
///
/// # Safety
///
/// As for [`free_node`], for every node of the chain.
unsafe fn free_chain(chain: NonNull<Header>) {
    let mut next = Some(chain);
    while let Some(node) = next {
        // SAFETY: caller's contract; the link is read before the node goes.
        unsafe {
            next = node.as_ref().next_free();
            free_node(node);
        }
    }
}

#[cfg(test)]
#[allow(clippy::undocumented_unsafe_blocks)] // Test nodes: made and freed right here.
pub(super) mod tests {
    use super::*;
    use crate::mailbox::ErasedVTable;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[repr(C)]
    struct Small {
        header: Header,
        /// Set while a sender holds the node, cleared before the actor gives it back.
        handed: std::sync::atomic::AtomicBool,
    }

    #[repr(C)]
    struct Large {
        header: Header,
        value: [u64; 4],
    }

    fn name() -> &'static str {
        "test"
    }

    unsafe fn no_span(_: &Header) -> Option<&tracing::Span> {
        None
    }

    unsafe fn drop_small(node: NonNull<Header>) {
        drop(unsafe { Box::from_raw(node.cast::<Small>().as_ptr()) });
    }

    unsafe fn drop_large(node: NonNull<Header>) {
        drop(unsafe { Box::from_raw(node.cast::<Large>().as_ptr()) });
    }

    static SMALL: ErasedVTable = ErasedVTable {
        message_type: name,
        sender_span: no_span,
        drop: drop_small,
        layout: Layout::new::<Small>(),
    };

    static LARGE: ErasedVTable = ErasedVTable {
        message_type: name,
        sender_span: no_span,
        drop: drop_large,
        layout: Layout::new::<Large>(),
    };

    /// A node of a small test message, payload-less as a handled one.
    pub(crate) fn small() -> NonNull<Header> {
        let node = Box::new(Small {
            header: Header::new(&SMALL),
            handed: std::sync::atomic::AtomicBool::new(false),
        });
        NonNull::from(Box::leak(node)).cast()
    }

    fn large() -> NonNull<Header> {
        let node = Box::new(Large {
            header: Header::new(&LARGE),
            value: [0; 4],
        });
        NonNull::from(Box::leak(node)).cast()
    }

    /// Takes every node of `layout` the spares hand out, until they have none.
    pub(crate) fn take_all(spares: &Spares, layout: Layout) -> Vec<NonNull<Header>> {
        std::iter::from_fn(|| spares.take(layout)).collect()
    }

    /// Frees nodes taken for a test.
    pub(crate) fn free_all(nodes: Vec<NonNull<Header>>) {
        for node in nodes {
            unsafe { free_node(node) };
        }
    }

    /// The layout of [`small`] nodes.
    pub(crate) const SMALL_LAYOUT: Layout = Layout::new::<Small>();

    #[test]
    fn the_node_of_a_handled_message_serves_the_next_one() {
        let spares = Spares::new();
        assert!(spares.take(SMALL_LAYOUT).is_none(), "nothing handled yet");
        let node = small();
        unsafe { spares.give(node) };
        assert_eq!(spares.take(SMALL_LAYOUT), Some(node));
        assert!(spares.take(SMALL_LAYOUT).is_none(), "handed out once only");
        free_all(vec![node]);
    }

    #[test]
    fn a_stream_of_messages_reuses_every_returned_node_up_to_the_cap() {
        let spares = Spares::new();
        let given: HashSet<_> = (0..RETURN_CAP + 10)
            .map(|_| {
                let node = small();
                unsafe { spares.give(node) };
                node
            })
            .collect();
        let taken = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(taken.len(), usize::from(RETURN_CAP), "the rest was freed");
        let distinct: HashSet<_> = taken.iter().copied().collect();
        assert_eq!(distinct.len(), taken.len(), "no node handed out twice");
        assert!(distinct.is_subset(&given));
        // Once taken, the stack fills again.
        unsafe { spares.give(taken[0]) };
        assert_eq!(spares.take(SMALL_LAYOUT), Some(taken[0]));
        free_all(taken);
    }

    /// Links nodes into a chain, as the actor gathers them.
    fn chain(nodes: &[NonNull<Header>]) -> NonNull<Header> {
        let mut next = ptr::null_mut();
        for node in nodes.iter().rev() {
            unsafe { node.as_ref() }.link_free(next);
            next = node.as_ptr();
        }
        nodes[0]
    }

    #[test]
    fn a_chain_goes_back_whole_unless_it_would_overfill_the_stack() {
        let spares = Spares::new();
        let run: Vec<_> = (0..16).map(|_| small()).collect();
        unsafe { spares.hand_back(chain(&run)) };
        let taken = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(
            taken.iter().copied().collect::<HashSet<_>>(),
            run.iter().copied().collect::<HashSet<_>>()
        );
        // Runs of 16 fill the stack; one more would overfill it and is freed, the stack
        // left intact.
        for _ in 0..usize::from(RETURN_CAP) / 16 + 1 {
            let run: Vec<_> = (0..16).map(|_| small()).collect();
            unsafe { spares.hand_back(chain(&run)) };
        }
        let kept = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(kept.len(), usize::from(RETURN_CAP));
        free_all(kept);
        free_all(taken);
    }

    #[test]
    fn a_node_of_another_layout_is_not_handed_out() {
        let spares = Spares::new();
        unsafe { spares.give(large()) };
        assert!(spares.take(SMALL_LAYOUT).is_none());
        // Nor kept for a later message of its own layout (it was freed).
        assert!(spares.take(Layout::new::<Large>()).is_none());
    }

    #[test]
    fn once_the_senders_take_the_stack_the_actor_returns_a_full_one_again() {
        let spares = Spares::new();
        for _ in 0..RETURN_CAP {
            unsafe { spares.give(small()) };
        }
        // A sender takes the stack over: one node for itself, the rest on `ready`.
        let first = spares.take(SMALL_LAYOUT).expect("a node");
        // The actor's stack is empty again, and takes a full run of nodes.
        for _ in 0..RETURN_CAP {
            unsafe { spares.give(small()) };
        }
        let rest = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(rest.len(), 2 * usize::from(RETURN_CAP) - 1);
        free_all(rest);
        free_all(vec![first]);
    }

    #[test]
    fn a_waiting_actor_keeps_one_node_past_the_idle_mark_and_none_of_the_senders() {
        let spares = Spares::new();
        for _ in 0..IDLE_KEEP {
            unsafe { spares.give(small()) };
        }
        unsafe { spares.settle() };
        let kept = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(
            kept.len(),
            usize::from(IDLE_KEEP),
            "up to the mark, all kept"
        );
        for node in kept {
            unsafe { spares.give(node) };
        }
        unsafe { spares.give(small()) };
        unsafe { spares.settle() };
        let kept = take_all(&spares, SMALL_LAYOUT);
        assert_eq!(kept.len(), 1, "past the mark, one kept");
        // The senders took a stack over (into `ready`) and used only one node: the actor
        // starting to wait frees the rest.
        for node in kept {
            unsafe { spares.give(node) };
        }
        for _ in 0..4 {
            unsafe { spares.give(small()) };
        }
        let one = spares.take(SMALL_LAYOUT).expect("a node");
        assert!(!spares.ready.load(Ordering::Relaxed).is_null());
        unsafe { spares.settle() };
        assert!(spares.ready.load(Ordering::Relaxed).is_null());
        assert!(spares.take(SMALL_LAYOUT).is_none());
        free_all(vec![one]);
    }

    #[test]
    fn senders_on_many_threads_never_share_a_node() {
        const SENDERS: usize = 4;
        const ROUNDS: usize = 200_000;
        let spares = Arc::new(Spares::new());
        // Some nodes handed back before any sender starts: the first takes reuse them
        // however the threads are scheduled (a valgrind run once let the senders finish
        // before the actor gave anything back).
        for _ in 0..16 {
            unsafe { spares.give(small()) };
        }
        let (back, returns) = std::sync::mpsc::channel::<usize>();
        let senders: Vec<_> = (0..SENDERS)
            .map(|sender| {
                let spares = Arc::clone(&spares);
                let back = back.clone();
                std::thread::spawn(move || {
                    let mut reused = 0;
                    for round in 0..ROUNDS {
                        let node = match spares.take(SMALL_LAYOUT) {
                            Some(node) => {
                                reused += 1;
                                node
                            }
                            None => small(),
                        };
                        let typed = node.cast::<Small>().as_ptr();
                        assert!(
                            !unsafe { &(*typed).handed }.swap(true, Ordering::SeqCst),
                            "sender {sender}, round {round}: a node handed out twice"
                        );
                        back.send(node.as_ptr() as usize).unwrap();
                    }
                    reused
                })
            })
            .collect();
        drop(back);
        // The actor: gives nodes back one at a time or in chains, and goes idle now and
        // then.
        let mut gathered = Vec::new();
        for (count, node) in returns.iter().enumerate() {
            let node = NonNull::new(node as *mut Header).unwrap();
            unsafe { &(*node.cast::<Small>().as_ptr()).handed }.store(false, Ordering::SeqCst);
            if count % 37 == 0 {
                unsafe { spares.give(node) };
            } else {
                gathered.push(node);
                if gathered.len() == 16 {
                    unsafe { spares.hand_back(chain(&gathered)) };
                    gathered.clear();
                }
            }
            if count % 1000 == 999 {
                unsafe { spares.settle() };
            }
        }
        free_all(gathered);
        let reused: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
        assert!(reused > 0, "no node was ever reused");
    }
}
