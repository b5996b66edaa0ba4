//! Half-open connections: sockets that connect and never finish their handshake, the way a
//! client that wants to exhaust a server's file descriptors opens them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The loopback address `127.0.1.n`: one of many peers a test can play on one machine (see
/// [`half_open`]).
pub fn loopback(n: u8) -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, n))
}

/// Opens `count` connections to `server` from the loopback address `from` (any of
/// `127.0.0.0/8` works on Linux, so a test can play several peers), each sending `prefix` (a
/// part of a handshake, or nothing) and then staying silent. Panics when a connect fails.
pub async fn half_open(
    server: SocketAddr,
    from: IpAddr,
    count: usize,
    prefix: &[u8],
) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::new(from, 0)).expect("bind source");
        let mut stream = socket.connect(server).await.expect("connect");
        if !prefix.is_empty() {
            // A server may already have closed it (over its limits); that is an answer too.
            let _ = stream.write_all(prefix).await;
        }
        streams.push(stream);
    }
    streams
}

/// Waits until the server has closed every one of `streams` (end of stream or reset, after
/// whatever it wrote first); returns how many were still open after `bound`.
pub async fn still_open_after(streams: Vec<TcpStream>, bound: Duration) -> usize {
    let waits = streams.into_iter().map(|mut stream| async move {
        let closed = async {
            let mut buf = [0u8; 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        };
        tokio::time::timeout(bound, closed).await.is_err()
    });
    futures::future::join_all(waits)
        .await
        .into_iter()
        .filter(|open| *open)
        .count()
}

/// A connected pair of real loopback sockets: (server side, client side), the client's
/// receive buffer fixed at 64 KiB so that a client that does not read fills it soon (a
/// server's writes then fall short or would block: what direct writes must survive).
pub async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
    let client = socket.connect(listener.local_addr().expect("addr"));
    let (client, accepted) = tokio::join!(client, listener.accept());
    (accepted.expect("accept").0, client.expect("connect"))
}
