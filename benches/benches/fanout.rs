//! In-process fan-out: one room, 1,000 sessions, one sender. Measures the time from handing
//! a `send` to the session until every member's queue yielded the encoded frame (store
//! commit, ordering, one shared encode, 1,000 queue pushes and pops).
//!
//! `cargo bench -p chatcore-benches --bench fanout`

#![allow(missing_docs)]

use std::time::{Duration, Instant};

use chatcore::auth::Credentials;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Request};
use chatcore::{Hub, Outbound, Outgoing, Session};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MEMBERS: usize = 1_000;

struct Room {
    sender: Session,
    sender_out: Outbound,
    members: Vec<(Session, Outbound)>,
}

async fn connect(hub: &Hub, user: &str, codec: Codec) -> (Session, Outbound) {
    let id = hub
        .authenticate(&Credentials::Guest(user.into()))
        .await
        .expect("auth");
    let (mut s, mut out) = hub.connect(id, codec).expect("connect");
    s.handle(Request::new(
        1,
        Command::Join {
            room: "bench".into(),
            resume_after: None,
        },
    ))
    .await;
    // welcome + joined
    loop {
        if let Outgoing::Frame(f) = out.recv().await {
            if matches!(f.event(), Event::Joined { .. }) {
                break;
            }
        }
    }
    (s, out)
}

async fn setup(codec: Codec) -> Room {
    let hub = Hub::builder().build().await.expect("hub");
    let (sender, sender_out) = connect(&hub, "sender", codec).await;
    let mut members = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        members.push(connect(&hub, &format!("m{i}"), codec).await);
    }
    let mut room = Room {
        sender,
        sender_out,
        members,
    };
    // Drain the presence notices the joins caused.
    for (_, out) in &mut room.members {
        while out.try_next().is_some() {}
    }
    while room.sender_out.try_next().is_some() {}
    room
}

async fn one_message(room: &mut Room, i: u64, text: &str) {
    room.sender
        .handle(Request::new(
            i,
            Command::Send {
                room: "bench".into(),
                text: text.to_owned(),
                nonce: None,
                kind: MessageKind::Text,
                reply_to: None,
                data: None,
            },
        ))
        .await;
    for (_, out) in &mut room.members {
        match out.recv().await {
            Outgoing::Frame(f) => {
                std::hint::black_box(f.encoded(out.codec()).len());
            }
            Outgoing::Closed(r) => panic!("member closed: {r:?}"),
            Outgoing::Flush => panic!("no direct sink is attached here"),
        }
    }
    // The sender's echo and ack.
    let mut seen = 0;
    while seen < 2 {
        if let Outgoing::Frame(_) = room.sender_out.recv().await {
            seen += 1;
        }
    }
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let text = "x".repeat(100);
    let mut group = c.benchmark_group("fanout_1000_members");
    group.throughput(Throughput::Elements(MEMBERS as u64));
    group.measurement_time(Duration::from_secs(8));
    for codec in [Codec::Json, Codec::MsgPack] {
        let mut room = rt.block_on(setup(codec));
        let mut n = 0u64;
        group.bench_function(format!("{codec:?}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        n += 1;
                        one_message(&mut room, n, &text).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
