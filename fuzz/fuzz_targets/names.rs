//! Any text as a user or room name: accepted or refused, never a panic; an accepted name
//! has no control character or whitespace, and a direct-message room name splits into the
//! two names it was made of.
#![no_main]

use chatcore::names;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ok in [
        names::validate_user(text).is_ok(),
        names::validate_room(text).is_ok(),
    ] {
        if ok {
            assert!(
                !text.chars().any(|c| c.is_control() || c.is_whitespace()),
                "{text:?}"
            );
        }
    }
    if let Some((a, b)) = names::dm_members(text) {
        let _ = (names::validate_user(a), names::validate_user(b));
    }
    if let Some((a, b)) = text.split_once('\n') {
        if names::validate_user(a).is_ok() && names::validate_user(b).is_ok() {
            let room = names::dm_room(a, b);
            let (x, y) = names::dm_members(&room).expect("a DM room name splits");
            assert!((x, y) == (a, b) || (x, y) == (b, a), "{room}");
        }
    }
});
