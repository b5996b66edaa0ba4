//! `chat-tui`: the terminal client of chatcore. `chat-tui --help` lists the flags.

use std::process::ExitCode;

use chatcore_tui::config::{Args, Settings};
use chatcore_tui::net::Target;
use clap::Parser;

fn main() -> ExitCode {
    let args = Args::parse();
    let settings = match Settings::load(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chat-tui: {e}");
            return ExitCode::from(2);
        }
    };
    // A bad CA file is a start-up error, before the terminal is taken over.
    if let Err(e) = Target::from_settings(&settings).check_ca_file() {
        eprintln!("chat-tui: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat-tui: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(chatcore_tui::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            chatcore_tui::terminal::restore();
            eprintln!("chat-tui: {e}");
            ExitCode::FAILURE
        }
    }
}
