use super::*;

#[test]
fn store_urls_parse() {
    assert_eq!(StoreUrl::parse("memory://").ok(), Some(StoreUrl::Memory));
    assert_eq!(
        StoreUrl::parse("sqlite://chatcore.db").ok(),
        Some(StoreUrl::Sqlite("chatcore.db".into()))
    );
    assert_eq!(
        StoreUrl::parse("sqlite:///var/lib/c.db").ok(),
        Some(StoreUrl::Sqlite("/var/lib/c.db".into()))
    );
    assert_eq!(
        StoreUrl::parse("postgres://u:p@h/db").ok(),
        Some(StoreUrl::Postgres("postgres://u:p@h/db".into()))
    );
}

#[test]
fn bad_store_urls_say_what_to_do() {
    for bad in ["chat.db", "mysql://h/db", "sqlite://"] {
        let msg = StoreUrl::parse(bad).expect_err(bad).to_string();
        assert!(msg.contains("sqlite://"), "{bad}: {msg}");
    }
    let msg = StoreUrl::parse("mysql://u:secret@h/db")
        .expect_err("mysql")
        .to_string();
    assert!(!msg.contains("secret"), "{msg}");
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(
        redact("postgres://me:hunter2@db:5432/chat?sslmode=disable"),
        "postgres://me:***@db:5432/chat?sslmode=disable"
    );
    assert_eq!(redact("postgres://db/chat"), "postgres://db/chat");
    assert_eq!(redact("postgres://me@db/chat"), "postgres://me@db/chat");
}

#[test]
fn buses_parse() {
    assert_eq!(BusUrl::parse("local").ok(), Some(BusUrl::Local));
    for url in [
        "redis://127.0.0.1:6379",
        "redis://:secret@redis:6379/2",
        "REDIS://h",
        "redis-cluster://h1:7000?node=h2:7001",
    ] {
        assert_eq!(
            BusUrl::parse(url).ok(),
            Some(BusUrl::Redis(url.into())),
            "{url}"
        );
    }
    assert_eq!(
        BusUrl::parse("redis://:secret@redis:6379")
            .map(|b| b.display())
            .ok(),
        Some("redis://:***@redis:6379".into())
    );
}

#[test]
fn bad_buses_say_what_to_do() {
    for bad in [
        "kafka://x",
        "redis",
        "redis://",
        "redis:///0",
        "nats://u:secret@h",
    ] {
        let msg = BusUrl::parse(bad).expect_err(bad).to_string();
        assert!(msg.contains("redis://HOST:PORT"), "{bad}: {msg}");
        assert!(
            !msg.contains('\n') && !msg.contains("secret"),
            "{bad}: {msg}"
        );
    }
    let msg = BusUrl::parse("rediss://h:6380")
        .expect_err("tls")
        .to_string();
    assert!(msg.contains("TLS"), "{msg}");
}

#[test]
fn default_node_ids_are_not_empty() {
    let id = default_node_id();
    assert!(!id.is_empty() && !id.contains(char::is_whitespace), "{id}");
    assert!(id.ends_with(&std::process::id().to_string()) || id.starts_with("node-"));
}

#[tokio::test]
async fn local_bus_is_the_hub_default() {
    assert!(
        BusUrl::Local
            .open("n1", "p:")
            .await
            .expect("local")
            .bus
            .is_none()
    );
}

#[cfg(not(feature = "redis"))]
#[tokio::test]
async fn redis_without_the_feature_says_how_to_rebuild() {
    let bus = BusUrl::parse("redis://:secret@127.0.0.1:6379").expect("url");
    let Err(e) = bus.open("n1", "p:").await else {
        panic!("no redis feature");
    };
    let msg = e.to_string();
    assert!(
        msg.contains("--features redis") && !msg.contains("secret"),
        "{msg}"
    );
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn unreachable_redis_is_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port(); // nothing listens there once the listener is dropped
    let bus = BusUrl::parse(&format!("redis://:secret@127.0.0.1:{port}")).expect("url");
    let Err(e) = bus.open("n1", "p:").await else {
        panic!("nothing listens on port {port}");
    };
    let msg = e.to_string();
    assert!(!msg.contains('\n') && !msg.contains("secret"), "{msg}");
    assert!(
        msg.contains("cannot reach Redis") && msg.contains("--bus"),
        "{msg}"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store_opens_and_bad_paths_are_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("chat.db").display());
    let store = StoreUrl::parse(&url)
        .expect("url")
        .open()
        .await
        .expect("sqlite store");
    store.ping().await.expect("ping");
    store.close().await.expect("close");
    let missing = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
    let Err(e) = StoreUrl::parse(&missing).expect("url").open().await else {
        panic!("a file in a missing directory cannot be opened");
    };
    assert!(e.to_string().contains("--store"), "{e}");
}

#[tokio::test]
async fn memory_store_opens() {
    let store = StoreUrl::Memory.open().await.expect("memory store");
    store.ping().await.expect("ping");
}
