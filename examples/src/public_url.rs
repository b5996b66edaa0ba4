//! `--public-url`: the addresses people reach the server at, which decide the `Host` names it
//! answers to (the DNS-rebinding guard of `chatcore-transport-ws`).

use crate::error::{Result, StartupError};

/// The host name of each public URL (`https://chat.example.com:8443/` → `chat.example.com`).
pub fn hosts(urls: &[String]) -> Result<Vec<String>> {
    urls.iter().map(|url| host(url)).collect()
}

fn host(url: &str) -> Result<String> {
    let bad = || {
        StartupError::Config(format!(
            "--public-url {url:?} is not an http:// or https:// URL such as \
             https://chat.example.com"
        ))
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad());
    }
    let host = if authority.starts_with('[') {
        authority
            .split_once(']')
            .map(|(h, _)| format!("{h}]"))
            .ok_or_else(bad)?
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        let urls = [
            "https://Chat.Example.com".to_owned(),
            "http://chat.example.org:8080/app/".to_owned(),
        ];
        assert_eq!(
            hosts(&urls).expect("valid"),
            ["chat.example.com", "chat.example.org"]
        );
        for bad in ["chat.example.com", "ftp://x", "https://", "https://u@evil"] {
            assert!(hosts(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
