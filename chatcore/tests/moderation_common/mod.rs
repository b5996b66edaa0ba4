//! Helpers shared by the `moderation_*` tests only: moderation commands and a staffed room.

use chatcore::Hub;
use chatcore::protocol::{Command, Event, Role, RoomKind};
use chatcore_testkit::SessionProbe;

pub(crate) fn create(room: &str, kind: RoomKind) -> Command {
    Command::Create {
        room: room.into(),
        kind,
        topic: None,
        description: None,
    }
}

pub(crate) fn kick(room: &str, user: &str) -> Command {
    Command::Kick {
        room: room.into(),
        user: user.into(),
        reason: Some("spam".into()),
    }
}

pub(crate) fn ban(room: &str, user: &str) -> Command {
    Command::Ban {
        room: room.into(),
        user: user.into(),
        reason: None,
        duration_s: None,
    }
}

pub(crate) fn role(room: &str, user: &str, role: Role) -> Command {
    Command::Role {
        room: room.into(),
        user: user.into(),
        role,
    }
}

/// A room `r` owned by ann with bob an admin, cy a moderator, dan a member, all joined on
/// node a.
pub(crate) async fn staffed(a: &Hub) -> [SessionProbe; 4] {
    let mut ann = SessionProbe::connect(a, "ann").await;
    assert!(matches!(
        ann.ask(create("r", RoomKind::Public)).await,
        Event::Created { .. }
    ));
    ann.join("r").await;
    let mut others = Vec::new();
    for user in ["bob", "cy", "dan"] {
        let mut p = SessionProbe::connect(a, user).await;
        p.join("r").await;
        others.push(p);
    }
    ann.acked(role("r", "bob", Role::Admin)).await;
    ann.acked(role("r", "cy", Role::Moderator)).await;
    let [bob, cy, dan]: [SessionProbe; 3] = others.try_into().ok().expect("three");
    [ann, bob, cy, dan]
}
