//! A page (tab) of the headless browser: evaluate JavaScript on it, wait for an expression,
//! type and click with real input events, take screenshots; and [`js`], which quotes test
//! data for the expressions.

use std::path::Path;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, InsertTextParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::error::CdpError;
use chromiumoxide::page::ScreenshotParams;
use serde_json::Value;

/// `text` as a JavaScript string literal, for building expressions from test data.
pub fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A page (tab) in its own browser context.
pub struct Page {
    /// The chromiumoxide page.
    pub(super) page: chromiumoxide::Page,
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
