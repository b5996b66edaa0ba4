//! `chat-server`: a complete chat server. `chat-server --help` lists every setting.

use std::process::ExitCode;

use clap::Parser;

use chatcore_examples::accounts;
use chatcore_examples::cli::{ServerArgs, ServerCommand};
use chatcore_examples::server::{self, ServerPlan};
use chatcore_examples::{logging, shutdown};

#[tokio::main]
async fn main() -> ExitCode {
    let args = ServerArgs::parse();
    if let Some(ServerCommand::Admin { action }) = &args.command {
        let stdin = std::io::BufReader::new(std::io::stdin());
        return match accounts::run_admin(&args, action, stdin).await {
            Ok(done) => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let started =
        logging::init(&args.log, args.log_format).and_then(|()| ServerPlan::from_args(&args));
    let plan = match started {
        Ok(plan) => plan,
        Err(e) => return fail(&e),
    };
    match server::run(plan, shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &chatcore_examples::StartupError) -> ExitCode {
    eprintln!("chat-server: {e}");
    ExitCode::FAILURE
}
