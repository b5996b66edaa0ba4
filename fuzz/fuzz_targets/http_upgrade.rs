//! Any bytes as an HTTP request to the WebSocket transport's router, parsed the way hyper
//! parses (httparse): the `Host` allow-list, the upgrade headers, `Origin`, subprotocols,
//! credentials in headers and the query string, and every REST route. Never a panic, never
//! a 500.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use chatcore::Hub;
use chatcore_transport_ws::{Router, Transport, WsConfig};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct World {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let router = runtime.block_on(async {
            let hub = Hub::builder().build().await.expect("hub");
            Transport::new(hub, WsConfig::default()).router()
        });
        World { runtime, router }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = parsed.parse(data) else {
        return;
    };
    let (Some(method), Some(path)) = (parsed.method, parsed.path) else {
        return;
    };
    let mut request = http::Request::builder().method(method).uri(path);
    for h in parsed.headers.iter() {
        request = request.header(h.name, h.value);
    }
    let Ok(request) = request.body(Body::from(data[head..].to_vec())) else {
        return;
    };
    let w = world();
    let response = w
        .runtime
        .block_on(w.router.clone().oneshot(request))
        .expect("infallible");
    assert_ne!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
});
