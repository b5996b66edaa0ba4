//! Unit tests of [`Presence`]: who is announced, when a room turns large and back, and how
//! other nodes' reports and leases combine.

use super::*;

const LEASE: Duration = Duration::from_secs(60);

fn user(name: &str) -> Arc<str> {
    Arc::from(name)
}

#[test]
fn a_late_diff_cannot_undo_a_newer_roster() {
    let mut p = Presence::new(100);
    p.remote_roster("b", vec!["bob".into(), "cat".into()], 5, LEASE);
    assert_eq!(p.online(), ["bob", "cat"]);
    let stale = p.remote_presence("b", "bob", false, 4, LEASE);
    assert_eq!(
        stale,
        Changes::default(),
        "version 4 is older than the roster"
    );
    assert_eq!(p.online(), ["bob", "cat"]);
    let left = p.remote_presence("b", "bob", false, 6, LEASE);
    assert_eq!(left.left, ["bob"]);
    assert_eq!(p.online(), ["cat"]);
    p.remote_roster("b", vec!["bob".into()], 5, LEASE);
    assert_eq!(p.online(), ["cat"], "a stale roster is ignored too");
}

#[test]
fn nodes_are_tracked_separately_and_expire() {
    let mut p = Presence::new(100);
    p.remote_roster("b", vec!["bob".into()], 1, LEASE);
    p.remote_roster("c", vec!["bob".into(), "cat".into()], 1, Duration::ZERO);
    assert_eq!(p.online(), ["bob", "cat"]);
    let gone = p.expire(Instant::now() + Duration::from_millis(1));
    assert_eq!(
        gone.left,
        ["cat"],
        "node c's lease ran out; bob is still on b"
    );
    assert_eq!(p.online(), ["bob"]);
    p.expire(Instant::now() + LEASE * 2);
    assert_eq!(p.count(), 0);
}

#[test]
fn a_user_online_elsewhere_comes_and_goes_silently() {
    let mut p = Presence::new(100);
    p.remote_roster("b", vec!["bob".into()], 1, LEASE);
    let silent = Changes::default();
    assert_eq!(p.add_local(&user("bob")), (true, Changes::default()));
    assert_eq!(p.add_local(&user("bob")), (false, Changes::default()));
    assert_eq!(p.remove_local("bob"), (false, Changes::default()));
    assert_eq!(p.remove_local("bob"), (true, silent), "still online on b");
    let (came, changes) = p.add_local(&user("ann"));
    assert!(came);
    assert_eq!(changes.joined, ["ann"]);
    let (went, changes) = p.remove_local("ann");
    assert!(went);
    assert_eq!(changes.left, ["ann"]);
}

#[test]
fn a_roster_announces_only_the_difference() {
    let mut p = Presence::new(100);
    p.remote_roster("b", vec!["ann".into(), "bob".into()], 1, LEASE);
    let c = p.remote_roster("b", vec!["bob".into(), "cat".into()], 2, LEASE);
    assert_eq!((c.joined, c.left), (vec!["cat".into()], vec!["ann".into()]));
}

#[test]
fn a_large_room_announces_the_count_then_the_list_when_it_shrinks() {
    let mut p = Presence::new(4);
    for name in ["u1", "u2", "u3", "u4"] {
        let (_, c) = p.add_local(&user(name));
        assert_eq!(c.joined, [name], "small: every join is announced");
    }
    let start = Instant::now();
    assert_eq!(
        p.take_count(start),
        None,
        "small rooms announce users, not counts"
    );
    let (_, c) = p.add_local(&user("u5"));
    assert_eq!(c, Changes::default(), "the fifth user makes the room large");
    assert!(p.is_large());
    assert_eq!(p.take_count(start), Some(5));
    let later = start + COUNT_PERIOD;
    assert_eq!(p.take_count(later), None, "announced once until it changes");
    p.remote_presence("b", "u6", true, 1, LEASE);
    let soon = start + COUNT_PERIOD / 2;
    assert_eq!(p.take_count(soon), None, "not again within the period");
    p.remove_local("u1");
    assert_eq!(
        p.take_count(later),
        Some(5),
        "two changes, one coalesced count, once the period is over"
    );
    for name in ["u2", "u3"] {
        assert_eq!(p.remove_local(name).1, Changes::default());
    }
    let (_, c) = p.remove_local("u4");
    assert_eq!(
        c.roster,
        Some(vec!["u5".into(), "u6".into()]),
        "half the limit"
    );
    assert!(!p.is_large());
    let (_, c) = p.add_local(&user("u7"));
    assert_eq!(c.joined, ["u7"], "per-user announcements resume");
}
