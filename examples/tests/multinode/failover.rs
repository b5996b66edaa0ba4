//! A node killed with SIGKILL: its users leave presence elsewhere and its clients resume on
//! another node through a failover proxy.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chatcore_client::{ClientEvent, ConnectionState};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::fixture::*;

/// A load balancer in miniature: each connection goes to the first backend that accepts
/// it, so when a node dies its clients reconnect to the next one.
async fn failover_proxy(backends: Vec<SocketAddr>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            let backends = backends.clone();
            tokio::spawn(async move {
                for backend in backends {
                    if let Ok(mut up) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// SIGKILL one of three nodes: its users leave presence on the others within the bound,
/// with leave notices; a client that was on it reconnects (through the proxy) to another
/// node and resumes without gap or duplicate while others keep sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_users_leave_and_clients_resume_on_another_node() {
    let Some((redis, pg)) = Cluster::services() else {
        return;
    };
    let mut cluster = Cluster::start("kill", 3, redis, pg).await;
    let [n1, n2, n3] = ["n1", "n2", "n3"].map(|id| cluster.node(id).addr);
    let proxy = failover_proxy(vec![n3, n1]).await;
    let (ann, ann_in) = client(&format!("http://{n1}"), "ann").await;
    let (bob, bob_in) = client(&format!("http://{n2}"), "bob").await;
    let (carol, _carol_in) = client(&format!("http://{n3}"), "carol").await; // gone with n3
    let (dave, dave_in) = client(&format!("http://{proxy}"), "dave").await; // n3, then n1
    for c in [&ann, &bob, &carol, &dave] {
        c.join("room").await.expect("join");
    }
    for (who, c) in [("ann", &ann), ("bob", &bob)] {
        wait_until!(PATIENCE, format!("{who} to see all four online"), {
            c.who("room").await.expect("who") == ["ann", "bob", "carol", "dave"]
        });
    }
    let mut expected = BTreeMap::new();
    for k in 0..5 {
        let ack = ann
            .send("room", format!("before #{k}"))
            .await
            .expect("send");
        expected.insert(ack.seq, ack.msg_id);
    }
    wait_until!(
        PATIENCE,
        "dave to have the first messages",
        dave_in.messages("room").len() == 5
    );

    // Kill n3 while bob keeps sending.
    let victim = cluster.nodes.iter_mut().find(|n| n.id == "n3").expect("n3");
    let killed = Instant::now();
    victim.process.kill().await;
    let sender = {
        let bob = bob.clone();
        tokio::spawn(async move {
            let mut acks = Vec::new();
            for k in 0..30 {
                let ack = bob
                    .send("room", format!("during #{k}"))
                    .await
                    .expect("send");
                acks.push((ack.seq, ack.msg_id));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            acks
        })
    };

    // carol is gone from presence on n1 and n2 within the bound, with a leave notice.
    // (dave is back, through n1, long before.)
    let bound = (PRESENCE_BOUND + OBSERVATION_SLACK).as_secs_f64();
    for (who, c, inbox) in [("ann", &ann, &ann_in), ("bob", &bob, &bob_in)] {
        wait_until!(
            bound - killed.elapsed().as_secs_f64().min(bound),
            format!("{who} to see carol leave"),
            {
                let online = c.who("room").await.expect("who");
                !online.contains(&"carol".to_owned()) && inbox.any(user_left("room", "carol"))
            }
        );
    }
    let took = killed.elapsed();
    assert!(
        took <= PRESENCE_BOUND + OBSERVATION_SLACK,
        "presence took {took:?}"
    );
    println!("carol left presence {took:?} after the kill");

    for (seq, id) in sender.await.expect("sender") {
        expected.insert(seq, id);
    }
    let after = ann.send("room", "after").await.expect("send");
    expected.insert(after.seq, after.msg_id);
    let total = expected.len();
    assert_eq!(total, 36);
    wait_until!(
        PATIENCE,
        "dave to resume",
        matches!(dave.state(), ConnectionState::Connected(_))
    );
    for (who, inbox) in [("ann", &ann_in), ("bob", &bob_in), ("dave", &dave_in)] {
        settle(|| inbox.messages("room").len() >= total).await;
        assert_exactly_once_in_order(who, &inbox.messages("room"), &expected);
    }
    assert!(
        dave_in.count(|e| matches!(e, ClientEvent::State(ConnectionState::Connected(_)))) >= 1,
        "dave reconnected"
    );
    assert!(
        ann.who("room")
            .await
            .expect("who")
            .contains(&"dave".to_owned())
    );
    cluster.finish().await;
}
