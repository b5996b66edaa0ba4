//! Presence in large rooms: past `presence_announce_limit` users online, joins and leaves are
//! no longer announced one by one (filling a room of n would cost n² frames); members get a
//! coalesced `online_count` and, when the room shrinks to half the limit, the whole list once.

use std::time::{Duration, Instant};

use chatcore::protocol::{Command, Event};
use chatcore::{Hub, Limits};
use chatcore_testkit::SessionProbe;

async fn hub(limit: usize) -> Hub {
    let limits = Limits::default()
        .with_presence_announce_limit(limit)
        .expect("valid limit");
    Hub::builder().limits(limits).build().await.expect("hub")
}

/// Every event `probe` receives before the answer to a `who` (a barrier: frames queued
/// earlier come first), and the list in that answer.
async fn drain(probe: &mut SessionProbe, room: &str) -> (Vec<Event>, Vec<String>) {
    let id = probe.request(Command::Who { room: room.into() }).await;
    let mut seen = Vec::new();
    loop {
        match probe.event().await {
            Event::Presence {
                id: Some(got),
                online,
                ..
            } if got == id => return (seen, online),
            other => seen.push(other),
        }
    }
}

fn count(events: &[Event], pred: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

#[tokio::test]
async fn a_join_storm_announces_each_user_only_up_to_the_limit() {
    let limit = 10;
    let hub = hub(limit).await;
    let mut first = SessionProbe::connect(&hub, "u0").await;
    first.join("big").await;
    let mut others = Vec::new();
    for i in 1..60 {
        let mut p = SessionProbe::connect(&hub, &format!("u{i}")).await;
        let joined = p.join("big").await;
        let Event::Joined { online, .. } = joined else {
            unreachable!()
        };
        if i < limit {
            assert_eq!(online.len(), i + 1, "a small room lists everyone");
        } else {
            assert!(online.is_empty(), "a large room leaves the list out");
            let count = p.event().await;
            assert_eq!(
                count,
                Event::OnlineCount {
                    room: "big".into(),
                    online: i as u64 + 1
                },
                "the count follows joined at once"
            );
        }
        others.push(p);
    }
    let (events, online) = drain(&mut first, "big").await;
    let joins = count(&events, |e| matches!(e, Event::UserJoined { .. }));
    assert_eq!(joins, limit - 1, "u1..u9 announced, the 50 after them not");
    assert_eq!(online.len(), 60, "who still lists everyone");
    // The coalesced count arrives within a second and a sweep, once, not 50 times.
    let got = first
        .until(|e| matches!(e, Event::OnlineCount { online: 60, .. }))
        .await;
    assert_eq!(
        got,
        Event::OnlineCount {
            room: "big".into(),
            online: 60
        }
    );
    let (events, _) = drain(&mut first, "big").await;
    assert_eq!(
        count(&events, |e| matches!(e, Event::OnlineCount { .. })),
        0,
        "no count again while it does not change"
    );
}

/// While a large room keeps filling, each member hears the count at most once a second
/// (PROTOCOL.md, `online_count`), not at every presence sweep (every 175 ms with the default
/// lease: eleven counts in two seconds).
#[tokio::test]
async fn a_room_filling_for_two_seconds_announces_its_count_at_most_once_a_second() {
    let hub = hub(4).await;
    let mut first = SessionProbe::connect(&hub, "u0").await;
    first.join("big").await;
    let mut others = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let mut p = SessionProbe::connect(&hub, &format!("u{}", others.len() + 1)).await;
        p.join("big").await;
        others.push(p);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let filling = started.elapsed();
    let (events, online) = drain(&mut first, "big").await;
    assert_eq!(online.len(), others.len() + 1);
    let counts = count(&events, |e| matches!(e, Event::OnlineCount { .. }));
    // One per whole second of filling, and one more at either end of it.
    let most = filling.as_secs() as usize + 2;
    assert!(
        (1..=most).contains(&counts),
        "{counts} counts while the room filled for {filling:?} (at most {most})"
    );
}

#[tokio::test]
async fn a_large_room_that_shrinks_sends_the_list_once_then_announces_again() {
    let hub = hub(4).await;
    let mut probes = Vec::new();
    for i in 0..6 {
        let mut p = SessionProbe::connect(&hub, &format!("u{i}")).await;
        p.join("r").await;
        probes.push(p);
    }
    let mut keep = probes.remove(0);
    // 6 online → 3: still large (half of 4 is 2). → 2: small again, the list comes once.
    for p in probes.drain(..4) {
        drop(p);
    }
    let list = keep
        .until(|e| matches!(e, Event::Presence { id: None, .. }))
        .await;
    assert_eq!(
        list,
        Event::Presence {
            id: None,
            room: "r".into(),
            online: vec!["u0".into(), "u5".into()]
        }
    );
    let mut late = SessionProbe::connect(&hub, "u9").await;
    let Event::Joined { online, .. } = late.join("r").await else {
        unreachable!()
    };
    assert_eq!(
        online,
        ["u0", "u5", "u9"],
        "a small room lists everyone again"
    );
    let next = keep
        .until(|e| matches!(e, Event::UserLeft { .. } | Event::UserJoined { .. }))
        .await;
    assert_eq!(
        next,
        Event::UserJoined {
            room: "r".into(),
            user: "u9".into()
        },
        "per-user announcements are back"
    );
}
