//! `chat-load`: the end-to-end load generator. `chat-load --help` explains every flag and
//! the scenarios; BENCHMARKS.md has the commands and the figures.

use std::process::ExitCode;

use chatcore_benches::load::args::Args;
use chatcore_benches::load::plan::Plan;
use chatcore_benches::load::run;
use clap::Parser;

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match Plan::from_args(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("chat-load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(plan, !args.json)) {
        Ok(summary) => {
            if args.json {
                println!("{}", summary.json());
            } else {
                print!("{}", summary.table());
            }
            // Leave the remaining sockets to the OS instead of waiting for their tasks.
            runtime.shutdown_background();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chat-load: {e}");
            ExitCode::FAILURE
        }
    }
}
