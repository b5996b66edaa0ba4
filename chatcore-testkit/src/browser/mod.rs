//! A headless Chromium driver for browser tests (feature `browser`), on chromiumoxide: start
//! Debian's `chromium` (never a downloaded build), open pages in separate browser contexts
//! (separate cookies and storage, like two people), evaluate JavaScript, type with real input
//! events, and take screenshots.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::BrowserConfig;
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, InsertTextParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::error::CdpError;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt;
use serde_json::Value;
use tokio::task::JoinHandle;

mod client;

pub use client::{SHOWN, has_text, online_has, shows, sign_up};

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

/// Chromium, or `None` after printing why the test is skipped (a failure instead with
/// `CHATCORE_REQUIRE_SERVICES=1`).
pub async fn browser_or_skip() -> Option<Browser> {
    match find_chromium() {
        Some(binary) => Some(Browser::launch(&binary).await),
        None if crate::services_required() => {
            panic!("Chromium not found and CHATCORE_REQUIRE_SERVICES=1: apt-get install chromium")
        }
        None => {
            // Straight to stderr, past the test harness's capture: a skip must be visible.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: Chromium not found (install it with `apt-get install chromium`, or set \
                 CHATCORE_CHROMIUM); set CHATCORE_REQUIRE_SERVICES=1 to make this a failure"
            );
            None
        }
    }
}

/// `text` as a JavaScript string literal, for building expressions from test data.
pub fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A headless Chromium process and a DevTools connection to it. Killed on drop.
pub struct Browser {
    /// The DevTools client; its drop kills the process.
    inner: chromiumoxide::Browser,
    /// Drives the DevTools connection; aborted on drop.
    handler: JoinHandle<()>,
    /// Console output and uncaught exceptions of every page, for failure messages. A
    /// `std` mutex: the collecting tasks never hold it across an await.
    console: Arc<Mutex<Vec<String>>>,
    /// The profile directory, removed on drop.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `binary` headless (`--no-sandbox`, as tests run as root in containers) with a
    /// fresh profile and a desktop-sized viewport.
    pub async fn launch(binary: &Path) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let viewport = Viewport {
            width: 1200,
            height: 720,
            device_scale_factor: Some(1.0),
            emulating_mobile: false,
            is_landscape: true,
            has_touch: false,
        };
        let config = BrowserConfig::builder()
            .chrome_executable(binary)
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(profile.path())
            .viewport(viewport)
            .launch_timeout(Duration::from_secs(30))
            .args([
                "disable-gpu",
                "disable-component-update",
                "no-default-browser-check",
            ])
            .build()
            .expect("browser config");
        let (inner, mut events) = chromiumoxide::Browser::launch(config)
            .await
            .expect("start chromium");
        // The connection only makes progress while its handler is polled; an event it
        // cannot parse is not a reason to stop.
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Self {
            inner,
            handler,
            console: Arc::default(),
            _profile: profile,
        }
    }

    /// Opens `url` in a new browser context (its own storage, like another person's browser).
    pub async fn open(&self, url: &str) -> Page {
        let context = self
            .inner
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .expect("browser context");
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context)
            .build()
            .expect("target params");
        let page = self.inner.new_page(target).await.expect("new page");
        self.collect_console(&page).await;
        page.goto(url).await.expect("navigate");
        Page { page }
    }

    /// Console output and uncaught exceptions of every page so far (for failure messages):
    /// `console."TYPE": ARGS…` and `exception: DESCRIPTION`.
    pub fn console(&self) -> Vec<String> {
        self.console
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts copying `page`'s console calls and exceptions into [`Browser::console`].
    async fn collect_console(&self, page: &chromiumoxide::Page) {
        let mut calls = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .expect("console listener");
        let mut exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .expect("exception listener");
        let console = Arc::clone(&self.console);
        tokio::spawn(async move {
            loop {
                let line = tokio::select! {
                    Some(call) = calls.next() => {
                        let kind = serde_json::to_value(&call.r#type).unwrap_or_default();
                        let args: Vec<String> = call.args.iter().map(describe).collect();
                        format!("console.{kind}: {}", args.join(" "))
                    }
                    Some(thrown) = exceptions.next() => {
                        let exception = thrown.exception_details.exception.as_ref();
                        let text = exception.and_then(|e| e.description.clone());
                        format!("exception: {}", text.unwrap_or_default())
                    }
                    else => return,
                };
                console.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
    }

    /// Uncaught exceptions and `console.error` calls of every page so far.
    pub fn page_errors(&self) -> Vec<String> {
        self.console()
            .into_iter()
            .filter(|l| l.starts_with("exception") || l.starts_with("console.\"error\""))
            .collect()
    }

    /// Closes a page, as a person closing the tab.
    pub async fn close(&self, page: Page) {
        page.page.close().await.expect("close page");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.handler.abort();
    }
}

/// A page (tab) in its own browser context.
pub struct Page {
    /// The chromiumoxide page.
    page: chromiumoxide::Page,
}

impl Page {
    /// Evaluates a JavaScript expression and returns its value (promises are awaited).
    /// An exception in the page is returned as `Err` with its description.
    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        match self.page.evaluate_expression(expression).await {
            Ok(result) => Ok(result.value().cloned().unwrap_or(Value::Null)),
            Err(CdpError::JavascriptException(details)) => Err(details
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| details.text.clone())),
            Err(other) => Err(other.to_string()),
        }
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
        self.page
            .execute(InsertTextParams::new(text))
            .await
            .expect("insert text");
    }

    /// Presses and releases Enter.
    pub async fn press_enter(&self) {
        for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
            let key = DispatchKeyEventParams::builder()
                .r#type(kind)
                .key("Enter")
                .code("Enter")
                .windows_virtual_key_code(13)
                .native_virtual_key_code(13)
                .build()
                .expect("key event");
            self.page.execute(key).await.expect("key event");
        }
    }

    /// Focuses the element matching CSS `selector` and types `text` into it with real input
    /// events (replacing what it held).
    pub async fn fill(&self, selector: &str, text: &str) {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({0}); if (!e) throw new Error('no ' + {0}); \
             e.value = ''; e.focus(); return true; }})()",
            js(selector)
        ))
        .await;
        self.type_text(text).await;
    }

    /// Clicks the element matching CSS `selector`; panics when there is none.
    pub async fn click(&self, selector: &str) {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({0}); if (!e) throw new Error('no ' + {0}); \
             e.click(); return true; }})()",
            js(selector)
        ))
        .await;
    }

    /// Saves a screenshot as `NAME.png` in the folder `CHATCORE_BROWSER_SCREENSHOT` names, if
    /// it is set.
    pub async fn save_screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("CHATCORE_BROWSER_SCREENSHOT") {
            let path = Path::new(&dir).join(format!("{name}.png"));
            std::fs::write(&path, self.screenshot().await).expect("write screenshot");
            eprintln!("screenshot: {}", path.display());
        }
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        self.page.screenshot(params).await.expect("screenshot")
    }
}

/// A console argument as text: its value when it is a string, else its description.
fn describe(arg: &RemoteObject) -> String {
    match &arg.value {
        Some(Value::String(text)) => text.clone(),
        _ => arg.description.clone().unwrap_or_default(),
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_follows_javascript() {
        assert!(!truthy(&Value::Null));
        assert!(!truthy(&serde_json::json!(0)));
        assert!(!truthy(&serde_json::json!("")));
        assert!(truthy(&serde_json::json!("x")));
        assert!(truthy(&serde_json::json!([])));
    }
}
