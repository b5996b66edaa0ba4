//! A headless Chromium driver for browser tests (feature `browser`), on chromiumoxide: start
//! Debian's `chromium` (never a downloaded build), open pages in separate browser contexts
//! (separate cookies and storage, like two people), evaluate JavaScript, type with real input
//! events, and take screenshots.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::BrowserConfig;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::handler::viewport::Viewport;
use futures::StreamExt;
use serde_json::Value;
use tokio::task::JoinHandle;

mod client;
mod page;

pub use client::{SHOWN, has_text, online_has, shows, sign_up};
pub use page::{Page, js};

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

/// A console argument as text: its value when it is a string, else its description.
fn describe(arg: &RemoteObject) -> String {
    match &arg.value {
        Some(Value::String(text)) => text.clone(),
        _ => arg.description.clone().unwrap_or_default(),
    }
}
