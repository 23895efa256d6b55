//! One case in this process: set up, warm up, measure, verify, print.
//!
//! Prints one `RESULT,workload,impl,metric,value` line per metric on stdout for the
//! driver. A wrong count or checksum is an error (non-zero exit); so is a case that runs
//! past its timeout, which a watchdog thread ends.

use crate::cli::Case;
use crate::impls::{on_impl, Impl};
use crate::workloads::{Measured, Params, Workload, SENDERS};

/// The line prefix the driver looks for.
pub(crate) const RESULT_PREFIX: &str = "RESULT,";

/// Runs a message workload (all but `fork-join-create`) with implementation module `$m`.
macro_rules! message_workload {
    ($m:ident, $workload:expr, $params:expr) => {{
        let (workload, params) = ($workload, $params);
        match workload {
            Workload::Counting | Workload::CountingUnbounded | Workload::Tracing => {
                $m::counting(params, workload.kind(), 1).await
            }
            Workload::CountingSenders => $m::counting(params, workload.kind(), SENDERS).await,
            Workload::Ask => $m::ask(params).await,
            Workload::PingPong => $m::ping_pong(params).await,
            Workload::ThreadRing => $m::thread_ring(params).await,
            Workload::ForkJoinThroughput => $m::fork_join_throughput(params).await,
            Workload::Chameneos => $m::chameneos(params).await,
            Workload::Big => $m::big(params).await,
            Workload::ForkJoinCreate => unreachable!("fork-join-create reports no Run"),
        }
    }};
}

pub(crate) fn run(case: &Case) -> Result<(), String> {
    let Case {
        workload,
        implementation,
        scale,
        ..
    } = *case;
    if workload.baseline() != implementation && !workload.contenders().contains(&implementation) {
        return Err(format!(
            "{} does not run {} (see `list`)",
            implementation.name(),
            workload.name()
        ));
    }
    start_watchdog(case);
    let defaults = workload.params(scale);
    let params = Params {
        size: case.size.unwrap_or(defaults.size),
        actors: case.actors.unwrap_or(defaults.actors),
    }
    .normalized(workload);
    install_subscriber(implementation);

    let measured: Measured = if workload == Workload::ForkJoinCreate {
        // No warm-up: it would leave freed memory behind and skew the RSS delta.
        let created = on_impl!(implementation, |m| m::fork_join_create(params));
        workload.check_created(params, &created)?
    } else {
        let warm_up = Params {
            size: params.size / 10,
            ..params
        }
        .normalized(workload);
        let (warm, run) = on_impl!(implementation, |m| async move {
            // Touches the code, the allocator and the scheduler before the timed run.
            let warm = message_workload!(m, workload, warm_up);
            let run = message_workload!(m, workload, params);
            (warm, run)
        });
        workload.check_run(warm_up, &warm)?;
        workload.check_run(params, &run)?
    };
    for (metric, value) in measured {
        println!(
            "{RESULT_PREFIX}{},{},{},{value}",
            workload.name(),
            implementation.name(),
            metric.name
        );
    }
    Ok(())
}

/// Ends the process if the case runs past its timeout, even when run by hand.
fn start_watchdog(case: &Case) {
    let timeout = case.timeout;
    let name = format!("{} {}", case.workload.name(), case.implementation.name());
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        eprintln!("{name}: timed out after {timeout:?}");
        std::process::exit(124);
    });
}

/// The tracing variants of Playhouse run with a global subscriber.
fn install_subscriber(implementation: Impl) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    match implementation {
        // Listens at INFO and below, so every `trace` span and event is off.
        Impl::PlayhouseInfo => tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .init(),
        // Records every span, `trace` included, in the registry; prints nothing.
        Impl::PlayhouseTrace => tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::TRACE)
            .init(),
        _ => {}
    }
}
