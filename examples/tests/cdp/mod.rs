//! A tiny Chrome DevTools Protocol client: enough to start headless Chromium, open pages in
//! separate browser contexts (separate cookies and storage, like two people), evaluate
//! JavaScript in them, type with real input events, and take screenshots.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Replies = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// The Chromium binary: `CHATCORE_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHATCORE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "chrome-headless-shell",
    ];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

/// A headless Chromium process and a DevTools connection to it. Killed on drop.
pub struct Browser {
    cdp: Cdp,
    _child: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `binary` headless with a fresh profile, no network use beyond what pages load.
    pub async fn launch(binary: &Path) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        // Chromium writes the port it picked and the browser's DevTools path to this file.
        let port_file = profile.path().join("DevToolsActivePort");
        let mut endpoint = None;
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    endpoint = Some(format!("ws://127.0.0.1:{port}{path}"));
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let endpoint = endpoint.expect("chromium published its DevTools port within 30 s");
        let cdp = Cdp::connect(&endpoint).await;
        Self {
            cdp,
            _child: child,
            _profile: profile,
        }
    }

    /// Opens `url` in a new browser context (its own storage, like another person's browser),
    /// with a desktop-sized viewport.
    pub async fn open(&self, url: &str) -> Page {
        let ctx = self
            .cdp
            .call("Target.createBrowserContext", json!({}), None)
            .await;
        let context = ctx["browserContextId"].as_str().expect("context id");
        let target = self
            .cdp
            .call(
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": context}),
                None,
            )
            .await;
        let target = target["targetId"].as_str().expect("target id").to_owned();
        let attached = self
            .cdp
            .call(
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
                None,
            )
            .await;
        let session = attached["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        let page = Page {
            cdp: self.cdp.clone(),
            session,
            target,
        };
        page.call("Runtime.enable", json!({})).await;
        page.call("Page.enable", json!({})).await;
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1200, "height": 720, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        page.call("Page.navigate", json!({"url": url})).await;
        page
    }

    /// Closes a page, as a person closing the tab.
    pub async fn close(&self, page: Page) {
        self.cdp
            .call("Target.closeTarget", json!({"targetId": page.target}), None)
            .await;
    }

    /// Console output and uncaught exceptions of every page so far (for failure messages).
    pub fn console(&self) -> Vec<String> {
        self.cdp.console.lock().expect("console lock").clone()
    }
}

/// One DevTools connection: requests matched to replies by id; console events collected.
#[derive(Clone)]
struct Cdp {
    out: mpsc::UnboundedSender<Message>,
    replies: Replies,
    next: Arc<AtomicU64>,
    console: Arc<Mutex<Vec<String>>>,
}

impl Cdp {
    async fn connect(endpoint: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(endpoint)
            .await
            .expect("DevTools WebSocket");
        let (mut sink, mut stream) = ws.split();
        let (out, mut queue) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(m) = queue.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        let replies: Replies = Arc::default();
        let console: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, c) = (Arc::clone(&replies), Arc::clone(&console));
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let Message::Text(text) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if let Some(id) = v["id"].as_u64() {
                    if let Some(tx) = r.lock().expect("replies lock").remove(&id) {
                        let _ = tx.send(v);
                    }
                } else if let Some(line) = console_line(&v) {
                    c.lock().expect("console lock").push(line);
                }
            }
        });
        Self {
            out,
            replies,
            next: Arc::new(AtomicU64::new(1)),
            console,
        }
    }

    /// Sends a command (to a page when `session` is given) and returns its `result`.
    async fn call(&self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.replies.lock().expect("replies lock").insert(id, tx);
        self.out
            .send(Message::text(msg.to_string()))
            .expect("DevTools connection open");
        let reply = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("no DevTools reply to {method} within 30 s"))
            .expect("DevTools connection open");
        if let Some(err) = reply.get("error") {
            panic!("DevTools {method} failed: {err}");
        }
        reply["result"].clone()
    }
}

fn console_line(event: &Value) -> Option<String> {
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.consoleAPICalled" => {
            let args: Vec<String> = params["args"]
                .as_array()?
                .iter()
                .map(|a| {
                    a["value"]
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| a["description"].to_string())
                })
                .collect();
            Some(format!("console.{}: {}", params["type"], args.join(" ")))
        }
        "Runtime.exceptionThrown" => Some(format!(
            "exception: {}",
            params["exceptionDetails"]["exception"]["description"]
        )),
        _ => None,
    }
}

/// A page (tab) in its own browser context.
pub struct Page {
    cdp: Cdp,
    session: String,
    target: String,
}

impl Page {
    async fn call(&self, method: &str, params: Value) -> Value {
        self.cdp.call(method, params, Some(&self.session)).await
    }

    /// Evaluates a JavaScript expression and returns its value (promises are awaited).
    /// An exception in the page is returned as `Err` with its description.
    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(ex["exception"]["description"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| ex.to_string()));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Like [`Page::try_eval`], panicking on an exception.
    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression)
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// Polls `expression` until it is truthy; panics after `timeout` with `what`, the last
    /// value and the page's visible text.
    pub async fn wait_for(&self, what: &str, expression: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            match self.try_eval(expression).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => last = v,
                Err(e) => last = Value::String(format!("exception: {e}")),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = self
            .try_eval("document.body.innerText")
            .await
            .unwrap_or_default();
        panic!("timed out waiting for {what}\nlast value: {last}\npage text:\n{text}");
    }

    /// Types `text` into the focused element with real input events.
    pub async fn type_text(&self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    /// Presses and releases Enter.
    pub async fn press_enter(&self) {
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": "Enter", "code": "Enter",
                       "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}),
            )
            .await;
        }
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64_decode(r["data"].as_str().expect("screenshot data"))
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Standard base64 (as DevTools sends screenshots), padding and whitespace ignored.
fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
