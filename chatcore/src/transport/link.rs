//! [`link`]: what a connection's reader and writer tell each other, in one small allocation.
//!
//! The reader asks the writer for things (a transport-made error frame, a close) and watches
//! how far the writer got (still writing, closed, dead). A tokio `mpsc` channel and a `watch`
//! did this before, at ~1.4 KB per connection, idle or not: the channel allocates a block of
//! 32 slots and a cache-padded shared state up front, the watch a set of eight notifiers.
//! This link is one `Arc` of ~150 bytes: a deque that allocates only when a request is sent,
//! the writer's state, and one [`AtomicWaker`] per direction (each side is one task). The
//! writer checks for requests on every turn of its loop, so that check is one atomic load.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

/// The shared part.
#[derive(Debug)]
struct Shared<C, S> {
    requests: Mutex<VecDeque<C>>,
    /// How many requests wait: the writer's lock-free check.
    queued: AtomicUsize,
    reader_gone: AtomicBool,
    /// Wakes the writer: a request arrived, or the reader is gone.
    to_writer: AtomicWaker,
    state: Mutex<S>,
    writer_gone: AtomicBool,
    /// The state changed (or the writer went) since the reader last waited.
    changed: AtomicBool,
    /// Wakes the reader.
    to_reader: AtomicWaker,
    capacity: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A reader ↔ writer link: requests of type `C` go to the writer, which publishes its state
/// `S` (starting at `initial`). At most `capacity` requests wait unless sent with
/// [`ReaderLink::send`].
pub fn link<C, S: Copy>(initial: S, capacity: usize) -> (ReaderLink<C, S>, WriterLink<C, S>) {
    let shared = Arc::new(Shared {
        requests: Mutex::new(VecDeque::new()),
        queued: AtomicUsize::new(0),
        reader_gone: AtomicBool::new(false),
        to_writer: AtomicWaker::new(),
        state: Mutex::new(initial),
        writer_gone: AtomicBool::new(false),
        changed: AtomicBool::new(false),
        to_reader: AtomicWaker::new(),
        capacity,
    });
    (
        ReaderLink {
            shared: Arc::clone(&shared),
        },
        WriterLink { shared },
    )
}

/// The reader's end. Dropping it tells the writer that no request will come any more.
#[derive(Debug)]
pub struct ReaderLink<C, S> {
    shared: Arc<Shared<C, S>>,
}

impl<C, S: Copy> ReaderLink<C, S> {
    /// Queues a request if fewer than the capacity wait; `false` when it was dropped.
    pub fn try_send(&self, request: C) -> bool {
        self.push(request, false)
    }

    /// Queues a request whatever the capacity (a close: one per connection).
    pub fn send(&self, request: C) {
        self.push(request, true);
    }

    fn push(&self, request: C, always: bool) -> bool {
        self.shared.push(request, always)
    }

    /// A second way in to the writer, for a part of the reader that lives apart from it (the
    /// WebSocket transport's socket adapter, which hands the writer the control frames its
    /// protocol library answers with). Dropping it tells the writer nothing.
    pub fn sender(&self) -> LinkSender<C, S> {
        LinkSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The writer's state, and whether the writer is gone (its end dropped).
    pub fn state(&self) -> (S, bool) {
        let gone = self.shared.writer_gone.load(Ordering::Acquire);
        (*lock(&self.shared.state), gone)
    }

    /// Waits until the writer's state may have changed, or the writer is gone; check
    /// [`state`](Self::state) after. May return when nothing changed.
    pub async fn changed(&self) {
        poll_fn(|cx| self.poll_changed(cx)).await;
    }

    fn poll_changed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let shared = &self.shared;
        if shared.changed.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        shared.to_reader.register(cx.waker());
        // A change between the check and the registration woke nobody: look again.
        if shared.changed.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Waits until the writer's state satisfies `done` or the writer is gone; returns the
    /// state then.
    pub async fn wait_for(&self, done: impl Fn(S) -> bool) -> S {
        loop {
            let (state, gone) = self.state();
            if gone || done(state) {
                return state;
            }
            self.changed().await;
        }
    }
}

impl<C, S> Drop for ReaderLink<C, S> {
    fn drop(&mut self) {
        self.shared.reader_gone.store(true, Ordering::Release);
        self.shared.to_writer.wake();
    }
}

impl<C, S> Shared<C, S> {
    fn push(&self, request: C, always: bool) -> bool {
        let mut requests = lock(&self.requests);
        if !always && requests.len() >= self.capacity {
            return false;
        }
        requests.push_back(request);
        self.queued.fetch_add(1, Ordering::Release);
        drop(requests);
        self.to_writer.wake();
        true
    }
}

/// Sends requests to the writer like its [`ReaderLink`] (see [`ReaderLink::sender`]); once
/// the writer is gone, what it sends is dropped rather than kept for nobody.
#[derive(Debug)]
pub struct LinkSender<C, S> {
    shared: Arc<Shared<C, S>>,
}

impl<C, S> LinkSender<C, S> {
    /// As [`ReaderLink::try_send`]; also `false` when the writer is gone.
    pub fn try_send(&self, request: C) -> bool {
        !self.writer_gone() && self.shared.push(request, false)
    }

    /// As [`ReaderLink::send`], unless the writer is gone.
    pub fn send(&self, request: C) {
        if !self.writer_gone() {
            self.shared.push(request, true);
        }
    }

    fn writer_gone(&self) -> bool {
        self.shared.writer_gone.load(Ordering::Acquire)
    }
}

/// The writer's end. Dropping it tells the reader that the writer is gone.
#[derive(Debug)]
pub struct WriterLink<C, S> {
    shared: Arc<Shared<C, S>>,
}

impl<C, S: Copy> WriterLink<C, S> {
    /// The next request, in order; `None` once the reader is gone and none is left.
    pub async fn recv(&self) -> Option<C> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<C>> {
        if let Some(ready) = self.take() {
            return Poll::Ready(ready);
        }
        self.shared.to_writer.register(cx.waker());
        // A request between the check and the registration woke nobody: look again.
        match self.take() {
            Some(ready) => Poll::Ready(ready),
            None => Poll::Pending,
        }
    }

    /// A request, or `Some(None)` when the reader is gone and none is left; `None` when
    /// there is nothing to do yet.
    fn take(&self) -> Option<Option<C>> {
        let shared = &self.shared;
        let gone = shared.reader_gone.load(Ordering::Acquire);
        if shared.queued.load(Ordering::Acquire) == 0 && !gone {
            return None;
        }
        let request = lock(&shared.requests).pop_front();
        if request.is_some() {
            shared.queued.fetch_sub(1, Ordering::Release);
            return Some(request);
        }
        gone.then_some(None)
    }

    /// Publishes the writer's state to the reader.
    pub fn set_state(&self, state: S) {
        *lock(&self.shared.state) = state;
        self.shared.changed.store(true, Ordering::Release);
        self.shared.to_reader.wake();
    }
}

impl<C, S> Drop for WriterLink<C, S> {
    fn drop(&mut self) {
        self.shared.writer_gone.store(true, Ordering::Release);
        self.shared.changed.store(true, Ordering::Release);
        self.shared.to_reader.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn requests_arrive_in_order_and_end_when_the_reader_is_gone() {
        let (reader, writer) = link::<u32, u8>(0, 2);
        assert!(reader.try_send(1));
        assert!(reader.try_send(2));
        assert!(!reader.try_send(3), "past the capacity");
        reader.send(4);
        drop(reader);
        let mut got = Vec::new();
        while let Some(r) = writer.recv().await {
            got.push(r);
        }
        assert_eq!(got, [1, 2, 4]);
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_for_a_request() {
        let (reader, writer) = link::<u32, u8>(0, 2);
        let waiting = tokio::spawn(async move { writer.recv().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(reader.try_send(7));
        assert_eq!(waiting.await.expect("writer"), Some(7));
    }

    #[tokio::test]
    async fn the_reader_sees_the_state_and_a_writer_that_is_gone() {
        let (reader, writer) = link::<u32, u8>(0, 2);
        assert_eq!(reader.state(), (0, false));
        let waiting = tokio::spawn(async move { reader.wait_for(|s| s == 2).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        writer.set_state(1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished(), "1 is not what it waits for");
        writer.set_state(2);
        assert_eq!(waiting.await.expect("reader"), 2);

        let (reader, writer) = link::<u32, u8>(0, 2);
        let waiting = tokio::spawn(async move {
            reader.wait_for(|_| false).await;
            reader.state()
        });
        drop(writer);
        assert_eq!(waiting.await.expect("reader"), (0, true));
    }

    #[tokio::test]
    async fn a_sender_reaches_the_writer_in_order_and_only_while_it_is_there() {
        let (reader, writer) = link::<u32, u8>(0, 2);
        let sender = reader.sender();
        assert!(reader.try_send(1));
        sender.send(2);
        assert!(!sender.try_send(3), "past the capacity");
        drop(sender);
        assert_eq!(writer.recv().await, Some(1));
        assert_eq!(writer.recv().await, Some(2));
        assert!(reader.try_send(4), "dropping a sender ended nothing");
        assert_eq!(writer.recv().await, Some(4));
        let sender = reader.sender();
        drop(writer);
        sender.send(5);
        assert!(!sender.try_send(6), "the writer is gone");
        assert!(
            lock(&reader.shared.requests).is_empty(),
            "nothing kept for nobody"
        );
    }

    #[test]
    fn the_link_is_one_small_allocation() {
        // What every idle connection pays for it (see BENCHMARKS.md, memory of a joined idle
        // connection): the mpsc + watch pair it replaced cost ~1,400 bytes.
        let size = std::mem::size_of::<Shared<Box<u8>, u8>>();
        assert!(size <= 160, "{size} bytes");
    }
}
