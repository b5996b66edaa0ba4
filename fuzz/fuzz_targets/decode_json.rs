//! Any bytes as a JSON request frame: an error or a request, never a panic; a decoded
//! request encodes and decodes to itself.
#![no_main]

use chatcore::protocol::Codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Codec::Json.decode_request(data) {
        let again = Codec::Json.encode(&request);
        let back = Codec::Json
            .decode_request(&again)
            .expect("re-encoded request decodes");
        assert_eq!(back, request);
    }
});
