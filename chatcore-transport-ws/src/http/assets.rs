//! The browser client: `index.html` at the mount point, its stylesheet and its ES modules
//! at fixed paths beside it. All are compiled in (`include_str!`); nothing is read from disk.
//!
//! The page refers to its assets by absolute paths under the prefix it was reached at, so
//! it works at `/` and nested under a prefix (`/chat`, served without a trailing slash, where
//! relative URLs would resolve one level too high).

use axum::extract::{OriginalUri, Path};
use axum::response::{Html, IntoResponse, Response};
use chatcore::ErrorCode;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::api_error::ApiError;

/// The page; `{{BASE}}` stands for the prefix its assets are served under.
const INDEX_HTML: &str = include_str!("../../static/index.html");

/// Every asset of the client other than the page: path below the prefix, content type, body.
pub(crate) const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", CSS, include_str!("../../static/app.css")),
    ("js/auth.js", JS, include_str!("../../static/js/auth.js")),
    (
        "js/changes.js",
        JS,
        include_str!("../../static/js/changes.js"),
    ),
    (
        "js/events.js",
        JS,
        include_str!("../../static/js/events.js"),
    ),
    ("js/main.js", JS, include_str!("../../static/js/main.js")),
    (
        "js/members.js",
        JS,
        include_str!("../../static/js/members.js"),
    ),
    (
        "js/messages.js",
        JS,
        include_str!("../../static/js/messages.js"),
    ),
    ("js/net.js", JS, include_str!("../../static/js/net.js")),
    ("js/reads.js", JS, include_str!("../../static/js/reads.js")),
    (
        "js/render.js",
        JS,
        include_str!("../../static/js/render.js"),
    ),
    ("js/rooms.js", JS, include_str!("../../static/js/rooms.js")),
    (
        "js/search.js",
        JS,
        include_str!("../../static/js/search.js"),
    ),
    ("js/send.js", JS, include_str!("../../static/js/send.js")),
    ("js/state.js", JS, include_str!("../../static/js/state.js")),
    (
        "js/thread.js",
        JS,
        include_str!("../../static/js/thread.js"),
    ),
    ("js/util.js", JS, include_str!("../../static/js/util.js")),
    ("js/view.js", JS, include_str!("../../static/js/view.js")),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Revalidate on every load: a new server version must not run beside a cached old module.
const CACHING: &str = "no-cache";

/// `GET /`: the web client, its asset paths under the prefix it was reached at.
pub(crate) async fn index(OriginalUri(uri): OriginalUri) -> impl IntoResponse {
    let page = INDEX_HTML.replace("{{BASE}}", &base(uri.path()));
    ([(CACHE_CONTROL, CACHING)], Html(page))
}

/// `GET /app.css`: the stylesheet.
pub(crate) async fn stylesheet() -> Response {
    asset("app.css")
}

/// `GET /js/{file}`: one of the client's modules; any other name is 404.
pub(crate) async fn script(Path(file): Path<String>) -> Response {
    asset(&format!("js/{file}"))
}

fn asset(path: &str) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => (
            [(CONTENT_TYPE, *content_type), (CACHE_CONTROL, CACHING)],
            *body,
        )
            .into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such asset")
            .into_response(),
    }
}

/// The prefix the page's assets live under: the page's path, ending in `/`. Only characters
/// a mount point is made of are kept verbatim; anything else (which no route of ours has)
/// falls back to `/`, so nothing from a request reaches the markup unescaped.
fn base(path: &str) -> String {
    let safe = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~%".contains(&b));
    if !safe || !path.starts_with('/') {
        return "/".to_owned();
    }
    if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_the_mount_point_with_a_slash() {
        assert_eq!(base("/"), "/");
        assert_eq!(base("/chat"), "/chat/");
        assert_eq!(base("/chat/"), "/chat/");
        assert_eq!(base("/a\"b"), "/");
        assert_eq!(base("/<x>"), "/");
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        for (_, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let Some(spec) = line.split('"').nth(1) else {
                    continue;
                };
                let path = format!("js/{}", spec.trim_start_matches("./"));
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == path),
                    "{path} is imported but not served"
                );
            }
        }
        assert!(INDEX_HTML.contains("{{BASE}}js/main.js"));
        assert!(INDEX_HTML.contains("{{BASE}}app.css"));
    }
}
