//! Running the built `chat-cli` in tests: a clean environment, its output and exit code.

use std::process::{Output, Stdio};

use chatcore_testkit::within;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_chat-cli");

/// The binary, with no `CHATCORE_…` variables inherited from the test's environment.
pub fn cli(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("CHATCORE_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args).kill_on_drop(true);
    cmd
}

/// Runs to completion with `stdin` as input.
pub async fn run(mut cmd: Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn chat-cli");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    within(child.wait_with_output())
        .await
        .expect("chat-cli output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, and for failures a single `chat-cli: error: …` line on stderr.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    if code != 0 {
        let err = stderr(o);
        assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    }
}

pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
