//! The batch buffer, the length-prefixed framing and a split half's writes (direct writes
//! over real sockets: `tests/direct_socket.rs`).

use super::*;
use crate::ErrorCode;
use crate::protocol::Event;

#[test]
fn the_buffer_keeps_a_small_capacity_and_gives_back_a_bursts() {
    let mut out = Vec::with_capacity(KEEP_BUFFER);
    out.extend_from_slice(&[1; 100]);
    recycle(&mut out);
    assert!(out.is_empty());
    assert_eq!(out.capacity(), KEEP_BUFFER, "kept");
    out.extend_from_slice(&[1; KEEP_BUFFER * 4]);
    recycle(&mut out);
    assert_eq!(out.capacity(), 0, "a burst's buffer given back");
}

#[test]
fn length_prefixed_frames_read_back_whole() {
    let frame = Frame::new(Event::error(Some(7), ErrorCode::BadFrame, "nope"));
    let mut out = Vec::new();
    let n = LengthPrefixed
        .push(&mut out, &frame, Codec::Json)
        .expect("framed");
    let mut buf = bytes::BytesMut::from(&out[..]);
    let payload = crate::transport::framed::decode(&mut buf, 1 << 20)
        .expect("size")
        .expect("whole");
    assert_eq!(payload.len() as u64, n);
    assert_eq!(&payload[..], frame.encoded(Codec::Json));
}

/// A stream that buffers what it is given (rustls does: a write can take the plaintext while
/// its records wait for the socket) sends it only when flushed: a pump's write must flush,
/// or the end of a burst waits for a write that may never come. `BufWriter` buffers the
/// same way.
#[tokio::test]
async fn a_split_halfs_write_reaches_the_peer_through_a_buffering_stream() {
    use tokio::io::AsyncReadExt;

    let (ours, mut theirs) = tokio::io::duplex(1024);
    let mut half = Split(tokio::io::BufWriter::new(ours));
    half.write_all(b"hello").await.expect("write");
    let mut got = [0u8; 5];
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        theirs.read_exact(&mut got),
    )
    .await
    .expect("the bytes arrive without another write")
    .expect("read");
    assert_eq!(&got, b"hello");
}
