//! The command line: `suite [OPTIONS]` drives the whole suite, `suite run ...` runs one
//! case (the driver calls it in a fresh process for every case), `suite list` shows what
//! there is.

use std::time::Duration;

use crate::impls::Impl;
use crate::workloads::{Scale, Workload};

pub(crate) const USAGE: &str = "\
The Playhouse benchmark suite.

USAGE:
    cargo bench -p playhouse-benches -- [OPTIONS]
    cargo bench -p playhouse-benches -- run --workload W --impl I [--smoke] [--size N] [--actors N]
    cargo bench -p playhouse-benches -- list

With no subcommand, runs every case in a fresh process, each implementation paired with
the baseline and the pair's order alternating, then prints a markdown table of medians
with each implementation's median ratio to the baseline.

OPTIONS:
    --smoke             tiny sizes, one run: checks that every case compiles, runs and verifies
    --runs N            repetitions of every pair (default 5, or 1 with --smoke)
    --workload W        only this workload (repeat, or separate with commas)
    --csv               print `workload,impl,metric,value` lines instead of the table
    --write-report      write BENCHMARKS.md (workspace root), benches/chart.svg and
                        benches/samples.csv (every pair's values)
    --from-samples FILE render the tables and report from saved samples, without running
    --timeout SECS      per case; a case that takes longer fails the suite (default 300)
    -h, --help          this text

RUN OPTIONS:
    --workload W --impl I   the case (see `list`)
    --smoke                 smoke sizes instead of full ones
    --size N, --actors N    override the workload's size (messages, or actors to create)
                            and its number of actors";

pub(crate) enum Command {
    Help,
    List,
    Run(Case),
    Suite(Options),
}

/// One case, run in this process.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) workload: Workload,
    pub(crate) implementation: Impl,
    pub(crate) scale: Scale,
    pub(crate) size: Option<u64>,
    pub(crate) actors: Option<usize>,
    pub(crate) timeout: Duration,
}

/// How to drive the whole suite.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) scale: Scale,
    pub(crate) runs: usize,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) csv: bool,
    pub(crate) write_report: bool,
    pub(crate) timeout: Duration,
    /// Render the report from saved samples instead of running the suite.
    pub(crate) from_samples: Option<std::path::PathBuf>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    // `cargo bench` passes `--bench` to every bench target; it means nothing here.
    let mut args = args
        .iter()
        .map(String::as_str)
        .filter(|arg| *arg != "--bench")
        .peekable();
    let subcommand = match args.peek() {
        Some(&"run") | Some(&"list") | Some(&"all") | Some(&"help") => args.next(),
        _ => None,
    };
    let mut scale = Scale::Full;
    let mut runs = None;
    let mut workloads = Vec::new();
    let mut implementation = None;
    let mut csv = false;
    let mut write_report = false;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut size = None;
    let mut actors = None;
    let mut from_samples = None;
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value"))
                .map(str::to_owned)
        };
        match arg {
            "-h" | "--help" => return Ok(Command::Help),
            "--smoke" => scale = Scale::Smoke,
            "--scale" => {
                let text = value()?;
                scale = Scale::parse(&text).ok_or_else(|| format!("unknown scale {text}"))?;
            }
            "--runs" => runs = Some(number(arg, &value()?)?),
            "--workload" => {
                for name in value()?.split(',') {
                    workloads.push(
                        Workload::parse(name).ok_or_else(|| format!("unknown workload {name}"))?,
                    );
                }
            }
            "--impl" => {
                let name = value()?;
                implementation =
                    Some(Impl::parse(&name).ok_or_else(|| format!("unknown impl {name}"))?);
            }
            "--csv" => csv = true,
            "--write-report" => write_report = true,
            "--timeout" => timeout = Duration::from_secs(number(arg, &value()?)?),
            "--size" => size = Some(number(arg, &value()?)?),
            "--actors" => actors = Some(number(arg, &value()?)?),
            "--from-samples" => from_samples = Some(value()?.into()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    match subcommand {
        Some("help") => Ok(Command::Help),
        Some("list") => Ok(Command::List),
        Some("run") => {
            let [workload] = workloads[..] else {
                return Err("run needs exactly one --workload".to_owned());
            };
            let implementation = implementation.ok_or("run needs --impl")?;
            Ok(Command::Run(Case {
                workload,
                implementation,
                scale,
                size,
                actors,
                timeout,
            }))
        }
        _ => {
            if implementation.is_some() || size.is_some() || actors.is_some() {
                return Err("--impl, --size and --actors belong to `run`".to_owned());
            }
            let runs = runs.unwrap_or(match scale {
                Scale::Full => 5,
                Scale::Smoke => 1,
            });
            if runs == 0 {
                return Err("--runs must be at least 1".to_owned());
            }
            if workloads.is_empty() {
                workloads = Workload::ALL.to_vec();
            }
            Ok(Command::Suite(Options {
                scale,
                runs,
                workloads,
                csv,
                write_report,
                timeout,
                from_samples,
            }))
        }
    }
}

fn number<T: std::str::FromStr>(option: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{option} needs a number, not {text}"))
}

/// Prints every workload, its sizes and the implementations it compares.
pub(crate) fn list() {
    for workload in Workload::ALL {
        let implementations: Vec<_> = std::iter::once(workload.baseline())
            .chain(workload.contenders().iter().copied())
            .map(Impl::name)
            .collect();
        println!(
            "{:<22} {}\n{:<22} impls: {} (baseline first)",
            workload.name(),
            workload.describe(workload.params(Scale::Full)),
            "",
            implementations.join(", ")
        );
    }
}
