//! Any text as a search query against the SQLite store: results or `bad_query`, never an
//! FTS5 syntax error (the user's text must never reach `MATCH` as written) and never a panic.
#![no_main]

use std::sync::OnceLock;

use chatcore::Error;
use chatcore::store::{NewRoom, SearchQuery, Store};
use chatcore_store_sqlite::SqliteStore;
use libfuzzer_sys::fuzz_target;

struct World {
    runtime: tokio::runtime::Runtime,
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(dir.path().join("fuzz.db")).expect("store");
        runtime.block_on(async {
            let room = NewRoom {
                name: "r".into(),
                kind: chatcore::protocol::RoomKind::Public,
                creator: "ann".into(),
                created: 0,
            };
            store.create_room(room).await.expect("room");
        });
        World {
            runtime,
            store,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let w = world();
    let query = SearchQuery {
        room: None,
        text: text.to_owned(),
        limit: 10,
    };
    match w.runtime.block_on(w.store.search(query)) {
        Ok(_) | Err(Error::BadQuery(_)) => {}
        Err(other) => panic!("search {text:?}: {other}"),
    }
});
