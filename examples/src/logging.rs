//! Log set-up for the binaries: a `tracing` filter and a text or JSON format.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::error::{Result, StartupError};

/// Installs the global `tracing` subscriber writing to stderr. `filter` is a tracing filter
/// (`info`, `warn,chatcore=debug`, …).
pub fn init(filter: &str, format: LogFormat) -> Result<()> {
    let filter = EnvFilter::try_new(filter).map_err(|e| {
        StartupError::Config(format!(
            "--log {filter:?} is not a valid filter ({e}); use a level such as `info` or \
             directives such as `info,chatcore=debug`"
        ))
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or journald.
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| StartupError::Config(format!("cannot install the logger: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_filter_is_explained() {
        let msg = init("info,[", LogFormat::Text)
            .expect_err("bad filter")
            .to_string();
        assert!(msg.contains("--log"), "{msg}");
    }
}
