//! What a policy costs on the message path: the in-process fan-out of `fanout.rs` (one room,
//! 1,000 members, one sender) with no policy, with [`AllowAll`] and with a trivial policy
//! that reads the text. A plain loop of a fixed number of messages, so callgrind can count
//! the instructions per message (`BENCHMARKS.md`, "Policy").
//!
//! `CHATCORE_BENCH_POLICY=none|allow|trivial CHATCORE_BENCH_MESSAGES=300 cargo bench -p chatcore-benches --bench policy`

#![allow(missing_docs)]

use std::time::Instant;

use chatcore::auth::{Credentials, Identity};
use chatcore::policy::{AllowAll, Draft, Policy};
use chatcore::protocol::{Codec, Command, Event, MessageKind, Request};
use chatcore::{Error, Hub, Outbound, Outgoing, Session};

const MEMBERS: usize = 1_000;

/// Refuses one word: the least a real policy does.
struct NoSpam;

#[async_trait::async_trait]
impl Policy for NoSpam {
    async fn send(&self, _who: &Identity, _room: &str, draft: &mut Draft) -> chatcore::Result<()> {
        if draft.text.contains("spam") {
            return Err(Error::Forbidden("no spam".into()));
        }
        Ok(())
    }
}

async fn connect(hub: &Hub, user: &str) -> (Session, Outbound) {
    let id = hub
        .authenticate(&Credentials::Guest(user.into()))
        .await
        .expect("auth");
    let (mut s, mut out) = hub.connect(id, Codec::Json).expect("connect");
    s.handle(Request::new(
        1,
        Command::Join {
            room: "bench".into(),
            resume_after: None,
        },
    ))
    .await;
    loop {
        if let Outgoing::Frame(f) = out.recv().await {
            if matches!(f.event(), Event::Joined { .. }) {
                break;
            }
        }
    }
    (s, out)
}

/// One message from `sender` to every member, until each member's queue yielded it.
#[inline(never)]
async fn one_message(
    sender: &mut Session,
    sender_out: &mut Outbound,
    members: &mut [(Session, Outbound)],
    i: u64,
) {
    sender
        .handle(Request::new(
            i,
            Command::Send {
                room: "bench".into(),
                text: "x".repeat(100),
                nonce: None,
                kind: MessageKind::Text,
                reply_to: None,
                data: None,
            },
        ))
        .await;
    for (_, out) in members.iter_mut() {
        match out.recv().await {
            Outgoing::Frame(f) => {
                std::hint::black_box(f.encoded(out.codec()).len());
            }
            Outgoing::Closed(r) => panic!("member closed: {r:?}"),
            Outgoing::Flush => panic!("no direct sink is attached here"),
        }
    }
    let mut seen = 0;
    while seen < 2 {
        if let Outgoing::Frame(_) = sender_out.recv().await {
            seen += 1;
        }
    }
}

fn main() {
    let mode = std::env::var("CHATCORE_BENCH_POLICY").unwrap_or_else(|_| "none".into());
    let messages: u64 = std::env::var("CHATCORE_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let builder = Hub::builder();
        let builder = match mode.as_str() {
            "none" => builder,
            "allow" => builder.policy(AllowAll),
            "trivial" => builder.policy(NoSpam),
            other => panic!("CHATCORE_BENCH_POLICY: none, allow or trivial, not {other}"),
        };
        let hub = builder.build().await.expect("hub");
        let (mut sender, mut sender_out) = connect(&hub, "sender").await;
        let mut members = Vec::with_capacity(MEMBERS);
        for i in 0..MEMBERS {
            members.push(connect(&hub, &format!("m{i}")).await);
        }
        for (_, out) in &mut members {
            while out.try_next().is_some() {}
        }
        while sender_out.try_next().is_some() {}
        let start = Instant::now();
        for i in 0..messages {
            one_message(&mut sender, &mut sender_out, &mut members, i + 10).await;
        }
        let took = start.elapsed();
        println!(
            "policy={mode} messages={messages} members={MEMBERS}: {:.1} µs per message ({:.0} deliveries/s)",
            took.as_secs_f64() * 1e6 / messages as f64,
            (messages as f64 * MEMBERS as f64) / took.as_secs_f64()
        );
    });
}
