//! Contract 1 and 3 (live part): gapless per-room seq; every member gets each message once,
//! in seq order, under concurrent senders.

use chatcore_testkit::{SessionProbe, memory_hub, seqs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_every_member_gets_all_once_in_order() {
    let hub = memory_hub().await;
    let senders = 4;
    let each = 100;
    let mut readers = Vec::new();
    for r in 0..3 {
        let mut c = SessionProbe::connect(&hub, &format!("reader{r}")).await;
        c.join("general").await;
        readers.push(c);
    }
    let mut tasks = Vec::new();
    for s in 0..senders {
        let mut c = SessionProbe::connect(&hub, &format!("sender{s}")).await;
        c.join("general").await;
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..each {
                acked.push(c.send("general", &format!("{s}:{i}")).await);
            }
            acked
        }));
    }
    let mut all_acks = Vec::new();
    for t in tasks {
        let acked = t.await.expect("sender");
        assert!(
            acked.windows(2).all(|w| w[0] < w[1]),
            "a sender's seqs increase"
        );
        all_acks.extend(acked);
    }
    all_acks.sort_unstable();
    let total = senders * each;
    let expected: Vec<u64> = (1..=total as u64).collect();
    assert_eq!(
        all_acks, expected,
        "acked seqs are 1..=n with no gap or reuse"
    );
    for mut r in readers {
        let got = r.messages("general", total).await;
        assert_eq!(seqs(&got), expected, "exactly once, in seq order");
        // Each sender's messages arrive in the order sent.
        for s in 0..senders {
            let mine: Vec<usize> = got
                .iter()
                .filter_map(|m| m.text.strip_prefix(&format!("{s}:")))
                .map(|i| i.parse().expect("index"))
                .collect();
            assert_eq!(mine, (0..each).collect::<Vec<_>>());
        }
    }
}

#[tokio::test]
async fn rooms_have_independent_sequences() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect(&hub, "ann").await;
    c.join("a").await;
    c.join("b").await;
    assert_eq!(c.send("a", "1").await, 1);
    assert_eq!(c.send("b", "1").await, 1);
    assert_eq!(c.send("a", "2").await, 2);
    assert_eq!(c.send("a", "3").await, 3);
    assert_eq!(c.send("b", "2").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_sends_from_one_session_keep_their_order() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect(&hub, "ann").await;
    c.join("r").await;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(c.send_nowait("r", &i.to_string(), None).await);
    }
    let got = c.messages("r", 200).await;
    let texts: Vec<String> = got.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, (0..200).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_eq!(seqs(&got), (1..=200).collect::<Vec<_>>());
}
