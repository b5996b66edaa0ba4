//! Any byte stream as the TCP transport reads it: length-prefixed frames (refused over the
//! size limit before the payload is buffered), the first one parsed as a `hello`. Frames that
//! decode re-encode to the same bytes.
#![no_main]

use bytes::BytesMut;
use chatcore::transport::framed::{self, Hello};
use libfuzzer_sys::fuzz_target;

/// The TCP transport's default frame limit.
const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    let mut first = true;
    while let Ok(Some(frame)) = framed::decode(&mut buf, MAX) {
        assert!(frame.len() <= MAX);
        if first {
            let _ = Hello::parse(&frame);
            first = false;
        }
        let mut out = BytesMut::new();
        framed::encode(&frame, &mut out).expect("a decoded frame fits");
        let back = framed::decode(&mut out, MAX)
            .expect("re-encoded")
            .expect("complete");
        assert_eq!(back, frame);
    }
});
