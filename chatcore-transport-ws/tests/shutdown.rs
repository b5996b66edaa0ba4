//! Graceful shutdown of `serve` while clients are sending.

use chatcore::protocol::{Codec, Event, Request};
use chatcore::store::HistoryQuery;
use chatcore_testkit::*;
use futures::SinkExt;

/// Sends pipelined messages (8 in flight) until the server closes; returns the acks it got
/// (seq, message id) and the close code.
async fn keep_sending(mut c: Probe, name: &'static str) -> (Vec<(u64, String)>, Option<u16>) {
    let mut acked = Vec::new();
    let mut in_flight = 0;
    let mut next = 0u64;
    let mut can_send = true;
    loop {
        while can_send && in_flight < 8 {
            next += 1;
            let key = format!("{name}-{next}");
            let request = Request::new(next, send("general", &key, Some(key.clone())));
            let frame = c.frame(Codec::Json.encode(&request));
            match c.ws.send(frame).await {
                Ok(()) => in_flight += 1,
                Err(_) => can_send = false,
            }
        }
        match c.next().await {
            Ok(Event::Ack { seq, msg_id, .. }) => {
                acked.push((seq, msg_id));
                in_flight -= 1;
            }
            Ok(Event::Error { .. }) => in_flight -= 1,
            Ok(_) => {}
            Err(code) => return (acked, code),
        }
    }
}

#[tokio::test]
async fn graceful_shutdown_loses_no_acknowledged_message_and_closes_with_1001() {
    let mut server = TestServer::start().await;
    let mut listener = Probe::guest(&server, "listener").await;
    listener.join("general").await;
    let mut senders = Vec::new();
    for name in ["ann", "bob"] {
        let mut c = Probe::guest(&server, name).await;
        c.join("general").await;
        senders.push(tokio::spawn(keep_sending(c, name)));
    }

    // The listener reads throughout, as a live client would.
    let (progress, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let listening = tokio::spawn(async move {
        let mut delivered = Vec::new();
        loop {
            match listener.next().await {
                Ok(Event::Message(m)) => {
                    delivered.push(m.seq);
                    let _ = progress.send(());
                }
                Ok(_) => {}
                Err(code) => return (delivered, code),
            }
        }
    });

    // Shut down mid-stream.
    for _ in 0..50 {
        tokio::time::timeout(BOUND, seen.recv())
            .await
            .expect("traffic")
            .expect("listening");
    }
    server.shutdown().await.expect("serve shuts down cleanly");

    let store = server.hub.store();
    let mut stored = Vec::new();
    loop {
        let after = stored
            .last()
            .map_or(0, |m: &chatcore::protocol::Message| m.seq);
        let page = store
            .history("general", HistoryQuery::after(after, 1000))
            .await
            .expect("history");
        stored.extend(page.messages);
        if !page.has_more {
            break;
        }
    }
    let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "gapless");

    let mut total_acked = 0;
    for sender in senders {
        let (acked, code) = tokio::time::timeout(BOUND, sender)
            .await
            .expect("sender ends")
            .expect("sender");
        assert_eq!(code, Some(1001), "senders see going-away");
        for (seq, id) in &acked {
            let m = stored
                .get((*seq - 1) as usize)
                .expect("an acknowledged message is stored");
            assert_eq!(&m.id, id);
        }
        total_acked += acked.len();
    }
    assert!(
        total_acked >= 50,
        "acks arrived before the shutdown: {total_acked}"
    );

    // The listener got a gapless prefix of the room (queued frames were written), then 1001.
    let (delivered, code) = tokio::time::timeout(BOUND, listening)
        .await
        .expect("listener ends")
        .expect("listener");
    assert_eq!(code, Some(1001));
    let first = delivered[0];
    assert_eq!(
        delivered,
        (first..first + delivered.len() as u64).collect::<Vec<_>>()
    );

    // Nothing listens any more.
    assert!(open(&server.ws_url("?user=late"), None, &[]).await.is_err());
}
