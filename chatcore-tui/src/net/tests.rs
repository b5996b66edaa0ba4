//! The mapping of client events to actions.

use std::time::Duration;

use chatcore_client::{DisconnectReason, Error};

use super::*;

fn state(state: ConnectionState) -> Vec<Action> {
    actions(ClientEvent::State(state))
}

#[test]
fn connection_states_become_the_status_line() {
    let lost = DisconnectReason::ConnectionLost("reset".into());
    assert_eq!(
        state(ConnectionState::Disconnected(lost.clone())),
        [Action::Conn(ConnStatus::Disconnected {
            reason: lost.to_string()
        })]
    );
    let retry = ConnectionState::Reconnecting {
        attempt: 3,
        delay: Duration::from_secs(2),
    };
    assert_eq!(
        state(retry),
        [Action::Conn(ConnStatus::Reconnecting { attempt: 3 })]
    );
    let refused = DisconnectReason::GaveUp(Box::new(Error::Unauthorized("bad token".into())));
    assert!(matches!(
        &state(ConnectionState::Closed(refused))[..],
        [Action::Conn(ConnStatus::Closed { reason })] if reason.contains("bad token")
    ));
    assert!(state(ConnectionState::Connecting).is_empty());
}

#[test]
fn a_failed_rejoin_drops_the_room_and_leaves_the_error_on_screen() {
    let failed = ClientEvent::RejoinFailed {
        room: "lobby".into(),
        error: Error::Closed,
    };
    assert!(matches!(
        &actions(failed)[..],
        [Action::Left(room), Action::Error(e)] if room == "lobby" && e.contains("#lobby")
    ));
}

#[test]
fn presence_and_typing_pass_through() {
    let left = ClientEvent::UserLeft {
        room: "lobby".into(),
        user: "bob".into(),
    };
    assert_eq!(
        actions(left),
        [Action::UserPresence {
            room: "lobby".into(),
            user: "bob".into(),
            online: false
        }]
    );
    let typing = ClientEvent::Typing {
        room: "lobby".into(),
        user: "bob".into(),
        on: true,
    };
    assert_eq!(
        actions(typing),
        [Action::Typing {
            room: "lobby".into(),
            user: "bob".into(),
            on: true
        }]
    );
    let count = ClientEvent::OnlineCount {
        room: "lobby".into(),
        online: 5012,
    };
    assert_eq!(
        actions(count),
        [Action::OnlineCount {
            room: "lobby".into(),
            online: 5012
        }]
    );
}

#[test]
fn a_refused_certificate_says_to_pass_the_ca_file() {
    let tls = |certificate| {
        let e = Error::Tls {
            url: "wss://localhost:1/ws".into(),
            reason: "the server's certificate is not trusted (UnknownIssuer)".into(),
            certificate,
        };
        state(ConnectionState::Closed(DisconnectReason::GaveUp(Box::new(
            e,
        ))))
    };
    assert!(matches!(
        &tls(true)[..],
        [Action::Conn(ConnStatus::Untrusted { reason }), Action::Error(hint)]
            if reason == "the server's certificate is not trusted (UnknownIssuer)"
                && hint.contains("--ca-file") && hint.contains("CHATCORE_CA_FILE")
    ));
    assert!(matches!(
        &tls(false)[..],
        [Action::Conn(ConnStatus::Closed { reason })] if reason.contains("UnknownIssuer")
    ));
}
