//! The host's [`Policy`]: refusals with the documented codes, rewrites checked against the
//! limits, claims from the authenticator, and a policy that panics or hangs (the command
//! fails, the session and the hub live on). Over real WebSockets where the client's view is
//! the point.

use std::time::Duration;

use chatcore::auth::{Credentials, Identity};
use chatcore::policy::{Draft, Policy};
use chatcore::protocol::{Codec, Command, Event, RoomKind};
use chatcore::{Error, ErrorCode, Hub, Limits, Result};
use chatcore_testkit::{Probe, SessionProbe, TestServer, dm, ws_config};

/// The shop's rules: `order-N` rooms only for customer N and staff (a claim), no new rooms
/// named `closed-*`, "darn" filtered, "spam" refused, "grow" makes the text huge.
struct Rules;

#[async_trait::async_trait]
impl Policy for Rules {
    async fn join(&self, who: &Identity, room: &str) -> Result<()> {
        let staff = who.claim("role").and_then(|r| r.as_str()) == Some("staff");
        match room.strip_prefix("order-") {
            Some(n) if !staff && who.user != format!("customer{n}") => {
                Err(Error::Forbidden(format!("{room} is not your order")))
            }
            _ => Ok(()),
        }
    }

    async fn create_room(&self, _who: &Identity, room: &str, kind: RoomKind) -> Result<()> {
        assert_eq!(kind, RoomKind::Public);
        if room.starts_with("closed-") {
            return Err(Error::Forbidden("no new closed rooms".into()));
        }
        Ok(())
    }

    async fn send(&self, _who: &Identity, _room: &str, draft: &mut Draft) -> Result<()> {
        if draft.text.contains("spam") {
            return Err(Error::Forbidden("no spam here".into()));
        }
        if draft.text == "grow" {
            draft.text = "x".repeat(100_000);
        }
        draft.text = draft.text.replace("darn", "d**n");
        Ok(())
    }

    async fn dm(&self, _who: &Identity, to: &str, _draft: &mut Draft) -> Result<()> {
        if to == "ceo" {
            return Err(Error::Forbidden("write to support instead".into()));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_policy_refuses_joins_and_sends_and_rewrites_text_over_the_socket() {
    let server = TestServer::with(Hub::builder().policy(Rules), ws_config()).await;
    let mut stranger = Probe::guest(&server, "customer2").await;
    let id = stranger
        .request(Command::Join {
            room: "order-1".into(),
            resume_after: None,
        })
        .await;
    match stranger.reply(id).await {
        Event::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert!(message.contains("not your order"), "{message}");
        }
        e => panic!("expected a refusal, got {e:?}"),
    }
    let mut owner = Probe::guest(&server, "customer1").await;
    let mut owner_phone = Probe::guest(&server, "customer1").await;
    owner.join("order-1").await;
    owner_phone.join("order-1").await;
    let id = owner
        .request(Command::Send {
            room: "order-1".into(),
            text: "buy spam".into(),
            nonce: None,
            kind: Default::default(),
            reply_to: None,
            data: None,
        })
        .await;
    assert!(matches!(
        owner.reply(id).await,
        Event::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));
    owner.say("order-1", "darn it").await;
    let echoed = owner_phone.message_from("customer1").await;
    assert_eq!(echoed.text, "d**n it");
    let stored = server.stored("order-1").await;
    assert_eq!(
        stored.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["d**n it"],
        "the refused send stored nothing; the rewrite is what was stored"
    );
    // The refused stranger's session is still served.
    stranger.join("lobby").await;
}

#[tokio::test]
async fn claims_from_the_authenticator_reach_the_policy() {
    let hub = Hub::builder().policy(Rules).build().await.expect("hub");
    let mut claims = serde_json::Map::new();
    claims.insert("role".into(), serde_json::json!("staff"));
    let staff = Identity::new("alice").with_claims(claims);
    let (mut session, mut out) = hub.connect(staff, Codec::Json).expect("connect");
    let _welcome = out.recv().await;
    session
        .handle(chatcore::protocol::Request::new(
            1,
            Command::Join {
                room: "order-7".into(),
                resume_after: None,
            },
        ))
        .await;
    let chatcore::Outgoing::Frame(f) = out.recv().await else {
        panic!("closed")
    };
    assert!(matches!(f.event(), Event::Joined { .. }), "{:?}", f.event());
}

#[tokio::test]
async fn room_creation_and_dms_are_asked_too() {
    let hub = Hub::builder().policy(Rules).build().await.expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let id = ann
        .request(Command::Join {
            room: "closed-1".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(ann.error(id).await, ErrorCode::Forbidden);
    assert!(
        hub.store().room("closed-1").await.expect("store").is_none(),
        "a refused creation writes nothing"
    );
    let id = ann.request(dm("ceo", "hi")).await;
    assert_eq!(ann.error(id).await, ErrorCode::Forbidden);
    let id = ann.request(dm("bob", "hi")).await;
    assert!(matches!(ann.reply(id).await, Event::Ack { .. }));
}

#[tokio::test]
async fn a_rewrite_past_the_size_limit_is_refused() {
    let limits = Limits::default().with_max_text_bytes(1024).expect("limits");
    let hub = Hub::builder()
        .policy(Rules)
        .limits(limits)
        .build()
        .await
        .expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("lobby").await;
    let id = ann.send_nowait("lobby", "grow", None).await;
    assert_eq!(ann.error(id).await, ErrorCode::TooLarge);
    assert_eq!(hub.store().last_seq("lobby").await.expect("seq"), 0);
    assert_eq!(ann.send("lobby", "fine").await, 1);
}

/// Panics on `panic`, never answers on `hang`.
struct Broken;

#[async_trait::async_trait]
impl Policy for Broken {
    async fn send(&self, _who: &Identity, _room: &str, draft: &mut Draft) -> Result<()> {
        match draft.text.as_str() {
            "panic" => panic!("the host's bug"),
            "hang" => std::future::pending().await,
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_policy_that_panics_or_hangs_fails_the_command_and_nothing_else() {
    let server = TestServer::with(
        Hub::builder()
            .policy(Broken)
            .policy_timeout(Duration::from_millis(300)),
        ws_config(),
    )
    .await;
    let mut ann = Probe::guest(&server, "ann").await;
    let mut bob = Probe::guest(&server, "bob").await;
    ann.join("lobby").await;
    bob.join("lobby").await;
    for (text, code) in [
        ("panic", ErrorCode::Internal),
        ("hang", ErrorCode::Unavailable),
    ] {
        let id = ann
            .request(Command::Send {
                room: "lobby".into(),
                text: text.into(),
                nonce: None,
                kind: Default::default(),
                reply_to: None,
                data: None,
            })
            .await;
        match ann.reply(id).await {
            Event::Error { code: got, .. } => assert_eq!(got, code, "{text}"),
            e => panic!("{text}: expected an error, got {e:?}"),
        }
    }
    // The same session, another session and the server go on.
    ann.say("lobby", "still here").await;
    assert_eq!(bob.message_from("ann").await.text, "still here");
    let mut carl = Probe::guest(&server, "carl").await;
    carl.join("lobby").await;
    assert_eq!(server.stored("lobby").await.len(), 1);
}

#[tokio::test]
async fn nobody_connects_under_a_name_the_engine_reserves() {
    let hub = Hub::builder().build().await.expect("hub");
    for bad in [chatcore::names::SYSTEM_USER, "a b", ""] {
        let err = hub.connect(Identity::new(bad), Codec::Json).expect_err(bad);
        assert_eq!(err.code(), ErrorCode::Unauthorized);
    }
    let guest = hub
        .authenticate(&Credentials::Guest("ann".into()))
        .await
        .expect("guest");
    assert!(hub.connect(guest, Codec::Json).is_ok());
}
