//! Any bytes as a MessagePack request frame: an error or a request, never a panic.
#![no_main]

use chatcore::protocol::Codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Codec::MsgPack.decode_request(data) {
        let again = Codec::MsgPack.encode(&request);
        let back = Codec::MsgPack
            .decode_request(&again)
            .expect("re-encoded request decodes");
        assert_eq!(back, request);
    }
});
