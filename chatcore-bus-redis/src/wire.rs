//! The wire format: an [`Envelope`] as a MessagePack map with named fields.
//!
//! Named fields (`rmp_serde::to_vec_named`) rather than the smaller positional arrays, so a
//! node of a newer version can add fields (to the envelope, to an event, to a message) and an
//! older node still decodes what it knows: nodes of two versions coexist during a rolling
//! upgrade. An event kind an old node does not know fails to decode there and is counted as a
//! decode error, which is harmless (the bus is at most once).

use bytes::Bytes;
use chatcore::bus::{BusEvent, Channel, Envelope};
use serde::Serialize;

/// The same shape as [`Envelope`], borrowed, so encoding needs no clone of the event.
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    origin: &'a str,
    event: &'a BusEvent,
}

/// Encodes an event published by `origin`.
pub(crate) fn encode(origin: &str, event: &BusEvent) -> Result<Bytes, rmp_serde::encode::Error> {
    rmp_serde::to_vec_named(&EnvelopeRef { origin, event }).map(Bytes::from)
}

/// Why a payload was not delivered. A small plain enum: this is the hot receive path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not a MessagePack envelope of a known event.
    Undecodable,
    /// A valid envelope whose event travels on another channel than the one it came on: a
    /// room's event on another room's channel or on the node-wide channel, or a node-wide
    /// event on a room's channel.
    WrongChannel,
}

/// Decodes a payload that arrived on the Redis channel of `channel`.
pub(crate) fn decode(channel: Channel<'_>, payload: &[u8]) -> Result<Envelope, Rejected> {
    let envelope: Envelope = rmp_serde::from_slice(payload).map_err(|_| Rejected::Undecodable)?;
    if envelope.event.channel() != channel {
        return Err(Rejected::WrongChannel);
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use chatcore::protocol::{Message, MessageKind, Moderation};

    use super::*;

    fn events() -> Vec<BusEvent> {
        vec![
            BusEvent::Message(Message {
                room: "r".into(),
                seq: 42,
                id: "01J".into(),
                sender: "ann".into(),
                kind: MessageKind::Emote,
                text: "waves 🦀 \0".into(),
                ts: 1_700_000_000_000,
                nonce: Some("n1".into()),
                reply_to: Some(7),
                data: None,
                ..Message::default()
            }),
            // An application's card: a custom kind with a data object of every JSON type.
            chatcore::testing::fixtures::bus_message("r", 43),
            BusEvent::Typing {
                room: "r".into(),
                user: "bob".into(),
                on: true,
            },
            BusEvent::Presence {
                room: "r".into(),
                user: "cy".into(),
                online: false,
                version: 3,
            },
            BusEvent::Head {
                room: "r".into(),
                seq: 42,
            },
            BusEvent::Roster {
                room: "r".into(),
                users: vec!["ann".into(), "bob".into()],
                version: 4,
                lease_ms: 15_000,
            },
            BusEvent::Invite {
                user: "bob".into(),
                room: "dm:ann:bob".into(),
            },
            BusEvent::Removed {
                room: "vip".into(),
                user: "ann".into(),
            },
            BusEvent::Disconnect { user: "ann".into() },
            BusEvent::Revoke {
                account: "ann".into(),
                which: chatcore::accounts::Revoked::AllBut("s1".into()),
            },
            // Room events beyond plain messages: a change and a moderation action.
            BusEvent::Message(Message {
                room: "r".into(),
                seq: 44,
                kind: MessageKind::React,
                text: "👍".into(),
                target: Some(42),
                ..Message::default()
            }),
            BusEvent::Message(Message {
                room: "r".into(),
                seq: 45,
                sender: "ann".into(),
                kind: MessageKind::Ban,
                text: "ann banned bob: spam".into(),
                moderation: Some(Box::new(
                    Moderation::on("bob")
                        .reason("spam")
                        .until(1_700_000_060_000),
                )),
                mentions: vec!["bob".into()],
                ..Message::default()
            }),
            BusEvent::Mention {
                user: "bob".into(),
                room: "r".into(),
                seq: 46,
                sender: "ann".into(),
                text: "@bob lunch? 🍜".into(),
            },
            BusEvent::Invitation {
                user: "bob".into(),
                room: "team".into(),
                by: "ann".into(),
            },
            BusEvent::Read {
                room: "r".into(),
                user: "bob".into(),
                seq: 46,
            },
        ]
    }

    #[test]
    fn round_trips_every_kind() {
        for event in events() {
            let bytes = encode("node-1", &event).expect("encode");
            let env = decode(event.channel(), &bytes).expect("decode");
            assert_eq!(env.origin, "node-1");
            assert_eq!(env.event, event);
        }
    }

    #[test]
    fn same_bytes_as_the_owned_envelope() {
        for event in events() {
            let owned = rmp_serde::to_vec_named(&Envelope {
                origin: "n".into(),
                event: event.clone(),
            })
            .expect("encode");
            assert_eq!(
                encode("n", &event).expect("encode").as_ref(),
                owned.as_slice()
            );
        }
    }

    /// A node of the previous version (its `Message` has no `data`, its kind no custom
    /// names) still decodes a card from a newer node: the data is skipped, the kind reads
    /// as unknown, the text is there to show.
    #[test]
    fn an_older_node_decodes_a_card() {
        #[derive(serde::Deserialize)]
        #[serde(tag = "t", rename_all = "snake_case")]
        enum OldEvent {
            Message {
                seq: u64,
                text: String,
                #[serde(default)]
                kind: OldKind,
            },
        }
        #[derive(serde::Deserialize, Default, Debug, PartialEq)]
        #[serde(rename_all = "snake_case")]
        enum OldKind {
            #[default]
            Text,
            #[serde(other)]
            Unknown,
        }
        #[derive(serde::Deserialize)]
        struct OldEnvelope {
            event: OldEvent,
        }
        let card = chatcore::testing::fixtures::bus_message("r", 9);
        let bytes = encode("n", &card).expect("encode");
        let old: OldEnvelope = rmp_serde::from_slice(&bytes).expect("old node decodes");
        let OldEvent::Message { seq, text, kind } = old.event;
        assert_eq!((seq, kind), (9, OldKind::Unknown));
        assert!(text.starts_with("text 9"), "{text}");
    }

    #[test]
    fn rejects_garbage_and_wrong_channels() {
        for garbage in [&b""[..], b"hello", b"\x81\xa6origin", b"\xc1", &[0xff; 64]] {
            assert_eq!(
                decode(Channel::Room("r"), garbage).err(),
                Some(Rejected::Undecodable)
            );
        }
        let typing = encode("n", &events()[1]).expect("encode");
        let invite = encode("n", &events()[6]).expect("encode");
        let removed = encode("n", &events()[7]).expect("encode");
        let disconnect = encode("n", &events()[8]).expect("encode");
        for (channel, bytes) in [
            (Channel::Room("other"), &typing),
            (Channel::AllNodes, &typing),
            (Channel::Room("dm:ann:bob"), &invite),
            (Channel::Room("vip"), &removed),
            (Channel::Room("r"), &disconnect),
        ] {
            assert_eq!(
                decode(channel, bytes).err(),
                Some(Rejected::WrongChannel),
                "{channel:?}"
            );
        }
    }

    #[test]
    fn tolerates_fields_added_by_a_newer_node() {
        #[derive(Serialize)]
        struct Newer<'a> {
            origin: &'a str,
            event: &'a BusEvent,
            trace_id: u64,
        }
        let event = events().remove(3);
        let bytes = rmp_serde::to_vec_named(&Newer {
            origin: "n",
            event: &event,
            trace_id: 9,
        })
        .expect("encode");
        assert_eq!(
            decode(Channel::Room("r"), &bytes).expect("decode").event,
            event
        );
    }
}
