//! The connection's tasks by size: every open connection holds its writer task, idle or not.

use chatcore::transport::Split;
use chatcore_testkit::{guest_session, memory_hub, tcp_pair};

use super::*;

/// Writing to the shared plain TCP socket (so that the hub can write to it too) must cost
/// the writer task nothing over writing to a split half.
#[tokio::test]
async fn the_writer_task_over_plain_tcp_is_no_bigger_than_over_a_split_half() {
    let hub = memory_hub().await;
    let config = Arc::new(TcpConfig::default());
    let writer = |outbound| {
        let (_, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
        let activity = Arc::new(Activity::new());
        writer::Writer::new(outbound, to_reader, activity, Arc::clone(&config))
    };
    let (_ann, first) = guest_session(&hub, "ann").await;
    let (_bob, second) = guest_session(&hub, "bob").await;
    let (server, _client) = tcp_pair().await;
    let (_read, write) = server.into_split();
    let tcp = std::mem::size_of_val(&writer(first).run(Arc::new(TcpWrite(write))));
    let (pipe, _other) = tokio::io::duplex(64);
    let (_read, write) = tokio::io::split(pipe);
    let split = std::mem::size_of_val(&writer(second).run(Split(write)));
    assert!(
        tcp <= split,
        "writer over TCP {tcp} bytes, over a split half {split}"
    );
}
