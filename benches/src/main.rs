//! The Playhouse benchmark suite.
//!
//! Workloads after the Savina actor benchmarks, each written idiomatically for Playhouse, a
//! raw tokio channel baseline (a task looping on `recv`, a oneshot for replies) and the peer
//! libraries actix, ractor, kameo and xtra. Every case checks its own result and fails
//! loudly when a count or checksum is wrong.
//!
//! Run it with `cargo bench -p playhouse-benches` (the full suite; add `-- --smoke` for
//! tiny sizes, `-- --help` for the options). With no subcommand this process is the
//! driver: it runs every case in a fresh copy of itself (`run ...`), alternating each
//! implementation with the baseline, and reports medians and pairwise ratios.

mod case;
mod chart;
mod cli;
mod driver;
mod impls;
mod machine;
mod report;
mod stats;
mod support;
mod workloads;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("error: {error}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        cli::Command::List => {
            cli::list();
            Ok(())
        }
        cli::Command::Run(case) => case::run(&case),
        cli::Command::Suite(options) => driver::run(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
