//! Unit tests of message kinds: namespaced custom kinds, unknown kinds, the wire names of
//! change and moderation kinds, and names that round-trip.

use super::*;

#[test]
fn custom_kinds_need_a_namespace() {
    for good in ["shop.order", "acme.poll-v2", "a.b.c", "x1.y_2"] {
        assert_eq!(
            MessageKind::from_name(good),
            MessageKind::Custom(good.into()),
            "{good}"
        );
    }
    let long = format!("a.{}", "b".repeat(MAX_KIND_BYTES));
    for bad in [
        "order",
        "Shop.order",
        "shop.",
        ".order",
        "shop..order",
        "shop.1x",
        "shop order.x",
        "shop.ordér",
        "",
        &long,
    ] {
        assert_eq!(MessageKind::from_name(bad), MessageKind::Unknown, "{bad:?}");
    }
}

#[test]
fn unknown_kind_decodes_as_unknown() {
    let k: MessageKind = serde_json::from_str("\"reaction\"").expect("decode");
    assert_eq!(k, MessageKind::Unknown);
}

#[test]
fn change_kinds_have_wire_names_and_are_told_apart() {
    for (name, k) in [
        ("edit", MessageKind::Edit),
        ("delete", MessageKind::Delete),
        ("react", MessageKind::React),
        ("unreact", MessageKind::Unreact),
    ] {
        let decoded: MessageKind = serde_json::from_str(&format!("\"{name}\"")).expect("decode");
        assert_eq!(decoded, k);
        assert_eq!(
            serde_json::to_string(&k).expect("encode"),
            format!("\"{name}\"")
        );
        assert!(k.is_change(), "{name} is a change kind");
    }
    for k in [MessageKind::Text, MessageKind::Emote, MessageKind::Unknown] {
        assert!(!k.is_change(), "{} is not a change kind", k.as_str());
        assert!(!k.is_reserved(), "{} is a client's kind", k.as_str());
    }
}

#[test]
fn moderation_kinds_are_reserved_and_not_changes() {
    for name in [
        "invite",
        "kick",
        "ban",
        "unban",
        "mute",
        "unmute",
        "role",
        "topic",
        "delete_room",
    ] {
        let k = MessageKind::from_name(name);
        assert_eq!(k.as_str(), name);
        assert!(
            k.is_moderation() && k.is_reserved() && !k.is_change(),
            "{name}"
        );
    }
}

#[test]
fn names_round_trip() {
    for k in [
        MessageKind::Text,
        MessageKind::Emote,
        MessageKind::Custom("shop.order".into()),
        MessageKind::Edit,
        MessageKind::Delete,
        MessageKind::React,
        MessageKind::Unreact,
        MessageKind::Kick,
        MessageKind::SetRole,
    ] {
        assert_eq!(MessageKind::from_name(k.as_str()), k);
        let json = serde_json::to_string(&k).expect("encode");
        assert_eq!(json, format!("\"{}\"", k.as_str()));
        assert_eq!(
            serde_json::from_str::<MessageKind>(&json).expect("decode"),
            k
        );
        let packed = rmp_serde::to_vec_named(&k).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<MessageKind>(&packed).expect("decode"),
            k
        );
    }
    for k in [RoomKind::Public, RoomKind::Private, RoomKind::Direct] {
        assert_eq!(RoomKind::from_name(k.as_str()), Some(k));
    }
    assert_eq!(RoomKind::from_name("nope"), None);
}
