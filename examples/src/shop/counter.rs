//! [`MessageCounter`]: an in-process consumer of the event stream that counts messages per
//! order, exactly once across restarts.
//!
//! The counts live in a JSON file beside the shop's data, each with the last seq it counted.
//! For each event the counter updates the file first, then commits the stream's cursor. If it
//! dies between the two, the event comes again after the restart and is skipped, because its
//! seq is not above the one recorded: the effect happens once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chatcore::Hub;
use chatcore::events::{StreamConfig, StreamFilter};
use chatcore::protocol::Message;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::orders::order_of;

/// One order's count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Messages counted.
    pub messages: u64,
    /// The seq of the last message counted.
    pub last_seq: u64,
}

type Counts = BTreeMap<u64, Count>;

/// The running counter; [`MessageCounter::stop`] ends it.
#[derive(Debug)]
pub struct MessageCounter {
    counts: Arc<Mutex<Counts>>,
    task: JoinHandle<()>,
}

impl MessageCounter {
    /// Starts counting on `hub`'s event stream (consumer group `order-counter`), with the
    /// counts kept in `file` (read back when it exists).
    pub fn start(hub: &Hub, file: impl Into<PathBuf>) -> std::io::Result<Self> {
        let file = file.into();
        let counts: Counts = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Counts::new(),
            Err(e) => return Err(e),
        };
        let counts = Arc::new(Mutex::new(counts));
        let config = StreamConfig::new("order-counter")
            .with_filter(StreamFilter::default().room_prefix("order-"));
        let mut stream = hub
            .event_stream(config)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let shared = Arc::clone(&counts);
        let task = tokio::spawn(async move {
            loop {
                let event = match stream.next().await {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "order counter: stream failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(e) = count(&shared, &file, &event) {
                    tracing::error!(error = %e, "order counter: cannot save counts; stopping");
                    return;
                }
                if let Err(e) = stream.commit(&event).await {
                    tracing::warn!(error = %e, "order counter: commit failed");
                }
            }
        });
        Ok(Self { counts, task })
    }

    /// The counts so far, by order.
    pub fn counts(&self) -> BTreeMap<u64, Count> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops counting (what was counted is saved).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Counts `event` unless it was counted before, and saves the counts.
fn count(counts: &Mutex<Counts>, file: &Path, event: &Message) -> std::io::Result<()> {
    let Some(order) = order_of(&event.room) else {
        return Ok(());
    };
    let snapshot = {
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        let c = counts.entry(order).or_default();
        if event.seq <= c.last_seq {
            return Ok(());
        }
        c.messages += 1;
        c.last_seq = event.seq;
        counts.clone()
    };
    let tmp = file.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(&snapshot).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, file)
}
