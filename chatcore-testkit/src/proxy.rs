//! [`Proxy`]: a TCP proxy in front of a server, to break connections the way networks do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A TCP proxy in front of a server, to break connections the way networks do.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Bumped by [`Proxy::cut`]: every connection open at that moment is dropped.
    generation: watch::Sender<u64>,
    /// While set, bytes from the server are read and thrown away (acks get lost).
    swallow: Arc<AtomicBool>,
    /// While set, new connections are accepted and dropped at once (the server is "down").
    refuse: Arc<AtomicBool>,
    /// The accept loop, aborted on drop.
    task: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a loopback port that forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let (generation, _) = watch::channel(0u64);
        let swallow = Arc::new(AtomicBool::new(false));
        let refuse = Arc::new(AtomicBool::new(false));
        let gen_tx = generation.clone();
        let swallow_flag = Arc::clone(&swallow);
        let refuse_flag = Arc::clone(&refuse);
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if refuse_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees its connection end
                }
                let Ok(outbound) = TcpStream::connect(target).await else {
                    continue;
                };
                let cut = gen_tx.subscribe();
                tokio::spawn(pump(inbound, outbound, cut, Arc::clone(&swallow_flag)));
            }
        });
        Self {
            addr,
            generation,
            swallow,
            refuse,
            task,
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now, without close frames (both ends see the TCP
    /// connection end). New connections go through.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Takes the server "down": drops every open connection and every new one until
    /// [`Proxy::up`], so clients see failed reconnect attempts, not just a cut.
    pub fn down(&self) {
        self.refuse.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// Lets connections through again after [`Proxy::down`].
    pub fn up(&self) {
        self.refuse.store(false, Ordering::SeqCst);
    }

    /// Starts or stops throwing away what the server sends.
    pub fn swallow(&self, on: bool) {
        self.swallow.store(on, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

/// Copies one connection both ways until it ends or the proxy cuts it.
async fn pump(
    inbound: TcpStream,
    outbound: TcpStream,
    mut cut: watch::Receiver<u64>,
    swallow: Arc<AtomicBool>,
) {
    let (mut client_rd, mut client_wr) = inbound.into_split();
    let (mut server_rd, mut server_wr) = outbound.into_split();
    let up = tokio::io::copy(&mut client_rd, &mut server_wr);
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if swallow.load(Ordering::SeqCst) {
                continue;
            }
            if client_wr.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = cut.changed() => {}
        _ = up => {}
        () = down => {}
    }
}
