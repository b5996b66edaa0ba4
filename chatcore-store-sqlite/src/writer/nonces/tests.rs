use super::*;

fn loaded(filter: Option<GrowableBloom>) -> Arc<Loaded> {
    let cell = Arc::new(Loaded::new());
    assert!(cell.set(filter).is_ok());
    cell
}

#[test]
fn a_fresh_nonce_is_certainly_unused_once_the_database_was_scanned() {
    let mut nonces = Nonces::with(loaded(Some(GrowableBloom::new(ERROR_RATE, 16))), 1 << 10);
    assert!(!nonces.note("n1", "ann"), "certainly unused the first time");
    assert!(nonces.note("n1", "ann"), "maybe stored the second");
    // The pair is the key: the same nonce from another sender is another message.
    assert!(!nonces.note("n1", "bob"));
}

#[test]
fn every_nonce_is_read_while_the_scan_runs_or_when_it_failed() {
    let mut loading = Nonces::with(Arc::new(Loaded::new()), 1 << 10);
    assert!(loading.note("n1", "ann"));
    assert!(loading.note("n3", "ann"));
    let mut failed = Nonces::with(loaded(None), 1 << 10);
    assert!(failed.note("n1", "ann"));
}

#[test]
fn past_its_bound_the_filter_is_dropped_and_every_nonce_read() {
    let mut nonces = Nonces::with(loaded(Some(GrowableBloom::new(ERROR_RATE, 16))), 100);
    for i in 0..100 {
        assert!(!nonces.note(&format!("n{i}"), "ann"));
    }
    assert!(
        nonces.note("one-too-many", "ann"),
        "past the bound: maybe stored"
    );
    assert!(nonces.note("fresh", "ann"), "and every nonce after it");
    assert!(nonces.since_open.is_empty(), "its memory is given back");
    assert!(nonces.loaded().is_none(), "the loaded filter's too");
}

#[test]
fn the_loader_finds_every_nonce_already_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = Connection::open(dir.path().join("n.db")).expect("open");
    conn.execute_batch(
        "CREATE TABLE messages (pos INTEGER PRIMARY KEY, nonce TEXT, sender TEXT);
         INSERT INTO messages (nonce, sender) VALUES ('a', 'ann'), ('b', 'bob'), (NULL, 'cid');",
    )
    .expect("schema");
    let (mut nonces, thread) = Nonces::load(conn).expect("load");
    thread.join().expect("loader");
    assert_eq!(nonces.loaded().map(GrowableBloom::len), Some(2));
    assert!(nonces.note("a", "ann"));
    assert!(nonces.note("b", "bob"));
    assert!(!nonces.note("c", "cid"));
}

#[test]
fn a_failed_scan_leaves_every_nonce_to_be_read() {
    let conn = Connection::open_in_memory().expect("open");
    let (mut nonces, thread) = Nonces::load(conn).expect("load");
    thread.join().expect("loader");
    assert!(nonces.before_open.get().is_some(), "the loader finished");
    assert!(nonces.note("a", "ann"));
}
