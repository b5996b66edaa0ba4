//! Contract 3 across reconnects: a client that rejoins with `resume_after` gets every missed
//! message exactly once, then live ones, with no gap and no duplicate at the seam.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chatcore::protocol::{Command, Event, Message};
use chatcore::{Hub, Limits};
use chatcore_testkit::{BOUND, SessionProbe, memory_hub, seqs};
use proptest::prelude::*;

/// Reads `room` from a `joined` event onwards, appending every message in arrival order.
fn take_joined(e: Event, got: &mut Vec<Message>) -> (u64, bool) {
    let Event::Joined {
        history,
        last_seq,
        complete,
        ..
    } = e
    else {
        panic!("expected joined, got {e:?}")
    };
    got.extend(history);
    (last_seq, complete)
}

#[tokio::test]
async fn resume_replays_exactly_what_was_missed() {
    let hub = memory_hub().await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    bob.join("r").await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    for i in 0..5 {
        bob.send("r", &format!("before {i}")).await;
    }
    let mut got = ann.messages("r", 5).await;
    drop(ann);
    for i in 0..7 {
        bob.send("r", &format!("missed {i}")).await;
    }
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let last = got.last().map(|m| m.seq);
    let (last_seq, complete) = take_joined(ann.join_from("r", last).await, &mut got);
    assert_eq!((last_seq, complete), (12, true));
    bob.send("r", "live").await;
    got.extend(ann.messages("r", 1).await);
    assert_eq!(seqs(&got), (1..=13).collect::<Vec<_>>());
}

#[tokio::test]
async fn resume_at_or_past_the_end_replays_nothing() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    ann.send("r", "one").await;
    drop(ann);
    for from in [1, 99] {
        let mut c = SessionProbe::connect(&hub, "ann").await;
        let Event::Joined {
            history, complete, ..
        } = c.join_from("r", Some(from)).await
        else {
            unreachable!()
        };
        assert!(history.is_empty() && complete, "from {from}");
    }
}

#[tokio::test]
async fn long_absence_pages_the_rest_without_gap() {
    let limits = Limits::default().with_resume_limit(10).expect("limit");
    let hub = Hub::builder().limits(limits).build().await.expect("hub");
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    bob.join("r").await;
    for i in 0..35 {
        bob.send_nowait("r", &i.to_string(), None).await;
    }
    bob.messages("r", 35).await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut got = Vec::new();
    let (last_seq, complete) = take_joined(ann.join_from("r", Some(3)).await, &mut got);
    assert_eq!((last_seq, complete, got.len()), (35, false, 10));
    while got.last().map_or(0, |m| m.seq) < last_seq {
        let after = got.last().map(|m| m.seq);
        let id = ann
            .request(Command::History {
                room: "r".into(),
                after,
                before: Some(last_seq + 1),
                limit: Some(10),
            })
            .await;
        let Event::History { messages, .. } = ann.reply(id).await else {
            panic!("history")
        };
        got.extend(messages);
    }
    bob.send("r", "live").await;
    got.extend(ann.messages("r", 1).await);
    assert_eq!(seqs(&got), (4..=36).collect::<Vec<_>>());
}

/// One sender keeps sending while a reader drops and resumes over and over: the reader ends
/// with every message exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_under_concurrent_sends_has_no_gap_or_duplicate_at_the_seam() {
    let hub = memory_hub().await;
    let total = 400u64;
    let mut sender = SessionProbe::connect(&hub, "sender").await;
    sender.join("r").await;
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    // The sender stays at most WINDOW messages ahead of what the reader has, so the reader
    // needs several rounds whatever the scheduling (each round gains at most WINDOW + 40),
    // and every resume happens while sends are in flight.
    const WINDOW: u64 = 30;
    let progress = Arc::new(AtomicU64::new(0));
    let reader_progress = Arc::clone(&progress);
    let sending = tokio::spawn(async move {
        for i in 0..total {
            while i >= reader_progress.load(Ordering::SeqCst) + WINDOW {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            sender.send_nowait("r", &i.to_string(), None).await;
            if i % 7 == 0 {
                tokio::task::yield_now().await;
            }
        }
        sender.messages("r", total as usize).await;
        finished.store(true, Ordering::SeqCst);
    });
    let mut got: Vec<Message> = Vec::new();
    let mut round = 0u64;
    while got.last().map_or(0, |m| m.seq) < total {
        round += 1;
        let mut reader = SessionProbe::connect(&hub, "reader").await;
        let resume = got.last().map(|m| m.seq).or((round > 1).then_some(0));
        let e = reader.join_from("r", resume).await;
        if round == 1 {
            let Event::Joined { history, .. } = e else {
                unreachable!()
            };
            got.extend(history);
        } else {
            let (_, complete) = take_joined(e, &mut got);
            assert!(complete);
        }
        progress.store(got.last().map_or(0, |m| m.seq), Ordering::SeqCst);
        // Read a few live messages, then drop the connection mid-stream.
        let want = 1 + (round as usize * 13) % 40;
        let mut read = 0;
        while read < want && got.last().map_or(0, |m| m.seq) < total {
            match tokio::time::timeout(BOUND, reader.out.recv()).await {
                Ok(chatcore::Outgoing::Frame(f)) => {
                    if let Event::Message(m) = f.event() {
                        got.push(m.clone());
                        progress.store(m.seq, Ordering::SeqCst);
                        read += 1;
                    }
                }
                other => panic!("reader: {other:?}"),
            }
        }
    }
    sending.await.expect("sender");
    assert!(done.load(Ordering::SeqCst));
    assert!(round > 3, "the reader reconnected several times ({round})");
    assert_eq!(seqs(&got), (1..=total).collect::<Vec<_>>());
}

/// A scripted schedule of sends, disconnects and resumes.
#[derive(Debug, Clone)]
enum Step {
    /// Sends, each awaiting its ack.
    Send(u8),
    /// Sends without waiting: their commits and fan-out are still in flight at the next
    /// step, so a resume lands while messages are committed but not yet delivered.
    InFlight(u8),
    Drop,
    Resume,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1u8..6).prop_map(Step::Send),
        3 => (1u8..6).prop_map(Step::InFlight),
        1 => Just(Step::Drop),
        1 => Just(Step::Resume),
    ]
}

async fn run_schedule(steps: Vec<Step>) -> (Vec<u64>, u64) {
    let hub = memory_hub().await;
    let mut sender = SessionProbe::connect(&hub, "s").await;
    sender.join("r").await;
    let mut reader = Some(SessionProbe::connect(&hub, "r").await);
    if let Some(r) = reader.as_mut() {
        r.join("r").await;
    }
    let mut got: Vec<Message> = Vec::new();
    let mut sent = 0u64;
    let drain = |reader: &mut SessionProbe, got: &mut Vec<Message>| {
        while let Some(f) = reader.out.try_next() {
            if let Event::Message(m) = f.event() {
                got.push(m.clone());
            }
        }
    };
    for step in steps {
        match step {
            Step::Send(n) => {
                for _ in 0..n {
                    sender.send("r", "x").await;
                    sent += 1;
                }
            }
            Step::InFlight(n) => {
                for _ in 0..n {
                    sender.send_nowait("r", "x", None).await;
                    sent += 1;
                }
            }
            Step::Drop => {
                if let Some(mut r) = reader.take() {
                    drain(&mut r, &mut got);
                }
            }
            Step::Resume => {
                if reader.is_none() {
                    let mut r = SessionProbe::connect(&hub, "r").await;
                    let from = got.last().map_or(0, |m| m.seq);
                    take_joined(r.join_from("r", Some(from)).await, &mut got);
                    reader = Some(r);
                }
            }
        }
    }
    let mut r = match reader {
        Some(r) => r,
        None => {
            let mut r = SessionProbe::connect(&hub, "r").await;
            let from = got.last().map_or(0, |m| m.seq);
            take_joined(r.join_from("r", Some(from)).await, &mut got);
            r
        }
    };
    let have = got.len() as u64;
    if have < sent {
        got.extend(r.messages("r", (sent - have) as usize).await);
    }
    (seqs(&got), sent)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn any_schedule_of_drops_and_resumes_delivers_exactly_once(steps in proptest::collection::vec(step(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (got, sent) = rt.block_on(run_schedule(steps));
        prop_assert_eq!(got, (1..=sent).collect::<Vec<_>>());
    }
}
