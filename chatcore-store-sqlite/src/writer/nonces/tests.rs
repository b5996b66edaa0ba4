use super::*;

fn loaded(filter: Option<GrowableBloom>) -> Arc<Loaded> {
    let cell = Arc::new(Loaded::new());
    assert!(cell.set(filter).is_ok());
    cell
}

#[test]
fn a_fresh_nonce_is_certainly_unused_once_the_database_was_scanned() {
    let mut nonces = Nonces::with(loaded(Some(GrowableBloom::new(ERROR_RATE, 16))), 1 << 10);
    assert!(!nonces.may_be_stored("n1", "ann"));
    nonces.note("n1", "ann");
    assert!(nonces.may_be_stored("n1", "ann"));
    // The pair is the key: the same nonce from another sender is another message.
    assert!(!nonces.may_be_stored("n1", "bob"));
}

#[test]
fn every_nonce_is_read_while_the_scan_runs_or_when_it_failed() {
    let mut loading = Nonces::with(Arc::new(Loaded::new()), 1 << 10);
    assert!(loading.may_be_stored("n1", "ann"));
    loading.note("n2", "ann");
    assert!(loading.may_be_stored("n3", "ann"));
    let failed = Nonces::with(loaded(None), 1 << 10);
    assert!(failed.may_be_stored("n1", "ann"));
}

#[test]
fn past_its_bound_the_filter_is_dropped_and_every_nonce_read() {
    let mut nonces = Nonces::with(loaded(Some(GrowableBloom::new(ERROR_RATE, 16))), 100);
    for i in 0..100 {
        nonces.note(&format!("n{i}"), "ann");
    }
    assert!(!nonces.may_be_stored("fresh", "ann"));
    nonces.note("one-too-many", "ann");
    assert!(nonces.may_be_stored("fresh", "ann"));
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
    let (nonces, thread) = Nonces::load(conn).expect("load");
    thread.join().expect("loader");
    assert!(nonces.may_be_stored("a", "ann"));
    assert!(nonces.may_be_stored("b", "bob"));
    assert!(!nonces.may_be_stored("c", "cid"));
    assert_eq!(nonces.loaded().map(GrowableBloom::len), Some(2));
}

#[test]
fn a_failed_scan_leaves_every_nonce_to_be_read() {
    let conn = Connection::open_in_memory().expect("open");
    let (nonces, thread) = Nonces::load(conn).expect("load");
    thread.join().expect("loader");
    assert!(nonces.before_open.get().is_some(), "the loader finished");
    assert!(nonces.may_be_stored("a", "ann"));
}
