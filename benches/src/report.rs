//! The results as a markdown table, as CSV, and as `BENCHMARKS.md` with the targets of
//! DESIGN.md marked met or missed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::impls::{Impl, WORKER_THREADS};
use crate::machine::{self, Machine};
use crate::stats;
use crate::workloads::{
    Metric, Scale, Workload, BYTES_PER_ACTOR, CAPACITY, MEAN_LATENCY, MESSAGES_PER_SECOND,
    SPAWNS_PER_SECOND,
};

/// The columns of the main table, baseline first.
pub(crate) const COLUMNS: [Impl; 6] = [
    Impl::Raw,
    Impl::Playhouse,
    Impl::Actix,
    Impl::Ractor,
    Impl::Kameo,
    Impl::Xtra,
];

/// The peers Playhouse is compared with.
pub(crate) const PEERS: [Impl; 4] = [Impl::Actix, Impl::Ractor, Impl::Kameo, Impl::Xtra];

/// The median ratio to the baseline, taken pair by pair, and the spread of those ratios.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ratio {
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

/// One implementation's result for one metric of one workload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub(crate) median: f64,
    /// `None` for the baseline itself.
    pub(crate) ratio: Option<Ratio>,
}

/// Everything one run of the suite measured.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub(crate) scale: Scale,
    pub(crate) runs: usize,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) cells: BTreeMap<(Workload, Impl, Metric), Cell>,
    pub(crate) wall: Duration,
}

impl Summary {
    pub(crate) fn cell(
        &self,
        workload: Workload,
        implementation: Impl,
        metric: Metric,
    ) -> Option<Cell> {
        self.cells.get(&(workload, implementation, metric)).copied()
    }

    /// The median ratio of `implementation` to the workload's baseline.
    pub(crate) fn ratio(
        &self,
        workload: Workload,
        implementation: Impl,
        metric: Metric,
    ) -> Option<f64> {
        self.cell(workload, implementation, metric)?
            .ratio
            .map(|ratio| ratio.median)
    }

    /// The median ratio with its spread over the pairs: `0.48x (0.45–0.52)`.
    fn ratio_text(&self, workload: Workload, implementation: Impl, metric: Metric) -> String {
        match self
            .cell(workload, implementation, metric)
            .and_then(|cell| cell.ratio)
        {
            Some(ratio) if self.runs > 1 => format!(
                "{} ({:.2}–{:.2})",
                stats::ratio(ratio.median),
                ratio.low,
                ratio.high
            ),
            Some(ratio) => stats::ratio(ratio.median),
            None => String::new(),
        }
    }

    /// How much better Playhouse does than `peer` (above 1: better), from their ratios to
    /// the same baseline runs' medians.
    fn playhouse_over(&self, workload: Workload, peer: Impl, metric: Metric) -> Option<f64> {
        let playhouse = self.ratio(workload, Impl::Playhouse, metric)?;
        let peer = self.ratio(workload, peer, metric)?;
        Some(if metric.higher_is_better {
            playhouse / peer
        } else {
            peer / playhouse
        })
    }
}

/// One line per median and per ratio: `workload,impl,metric,value`.
pub(crate) fn csv(summary: &Summary) -> String {
    let mut out = String::from("workload,impl,metric,value\n");
    for (&(workload, implementation, metric), cell) in &summary.cells {
        let (workload, name) = (workload.name(), implementation.name());
        let _ = writeln!(out, "{workload},{name},{},{}", metric.name, cell.median);
        if let Some(ratio) = cell.ratio {
            let baseline = summary_baseline(workload);
            let _ = writeln!(
                out,
                "{workload},{name},{}_vs_{baseline},{}",
                metric.name, ratio.median
            );
        }
    }
    out
}

fn summary_baseline(workload: &str) -> &'static str {
    Workload::parse(workload).map_or("baseline", |workload| workload.baseline().name())
}

/// The markdown tables printed at the end of a run.
pub(crate) fn tables(summary: &Summary) -> String {
    let mut out = results_table(summary);
    if summary.workloads.contains(&Workload::Tracing) {
        out.push('\n');
        out.push_str(&tracing_table(summary));
    }
    out
}

fn results_table(summary: &Summary) -> String {
    let mut out = String::from("| workload | metric |");
    for implementation in COLUMNS {
        let _ = write!(out, " {} |", implementation.title());
    }
    out.push_str("\n| --- | --- |");
    for _ in COLUMNS {
        out.push_str(" ---: |");
    }
    out.push('\n');
    for &workload in &summary.workloads {
        if workload == Workload::Tracing {
            continue;
        }
        for &metric in workload.metrics() {
            let better = if metric.higher_is_better {
                "↑"
            } else {
                "↓"
            };
            let _ = write!(out, "| {} | {} {better} |", workload.name(), metric.unit);
            for implementation in COLUMNS {
                let _ = write!(
                    out,
                    " {} |",
                    cell_text(summary, workload, implementation, metric)
                );
            }
            out.push('\n');
        }
    }
    out
}

fn cell_text(
    summary: &Summary,
    workload: Workload,
    implementation: Impl,
    metric: Metric,
) -> String {
    match summary.cell(workload, implementation, metric) {
        None => "–".to_owned(),
        Some(Cell {
            median,
            ratio: None,
        }) => stats::si(median),
        Some(Cell {
            median,
            ratio: Some(ratio),
        }) => format!("{} ({})", stats::si(median), stats::ratio(ratio.median)),
    }
}

fn tracing_table(summary: &Summary) -> String {
    let workload = Workload::Tracing;
    let metric = MESSAGES_PER_SECOND;
    let mut out = format!(
        "| tracing (Playhouse counting) | {} | {} | {} |\n| --- | ---: | ---: | ---: |\n",
        "no subscriber",
        Impl::PlayhouseInfo.title(),
        Impl::PlayhouseTrace.title()
    );
    let _ = writeln!(
        out,
        "| msg/s ↑ | {} | {} | {} |",
        cell_text(summary, workload, Impl::Playhouse, metric),
        cell_text(summary, workload, Impl::PlayhouseInfo, metric),
        cell_text(summary, workload, Impl::PlayhouseTrace, metric),
    );
    out
}

/// A target of DESIGN.md and how this run did on it.
struct Target {
    name: String,
    wanted: String,
    measured: String,
    /// `None` when this run did not measure it.
    met: Option<bool>,
}

fn targets(summary: &Summary) -> Vec<Target> {
    let mut targets = vec![ahead_of_every_peer(summary)];
    for (workload, kind) in [
        (Workload::Counting, "bounded"),
        (Workload::CountingUnbounded, "unbounded"),
    ] {
        let ratio = summary.ratio(workload, Impl::Playhouse, MESSAGES_PER_SECOND);
        targets.push(Target {
            name: format!(
                "`tell` throughput ({}) vs raw {kind} channel",
                workload.name()
            ),
            wanted: "≥ 0.90x".to_owned(),
            measured: summary.ratio_text(workload, Impl::Playhouse, MESSAGES_PER_SECOND),
            met: ratio.map(|ratio| ratio >= 0.9),
        });
    }
    let latency = summary.ratio(Workload::Ask, Impl::Playhouse, MEAN_LATENCY);
    targets.push(Target {
        name: "`ask` mean latency vs raw channel + oneshot".to_owned(),
        wanted: "≤ 1.30x".to_owned(),
        measured: summary.ratio_text(Workload::Ask, Impl::Playhouse, MEAN_LATENCY),
        met: latency.map(|ratio| ratio <= 1.3),
    });
    for workload in [Workload::PingPong, Workload::ThreadRing] {
        let relative = summary.playhouse_over(workload, Impl::Actix, workload.primary());
        targets.push(Target {
            name: format!("{} rate vs actix", workload.name()),
            wanted: "≥ 1.00x".to_owned(),
            measured: relative.map_or_else(String::new, stats::ratio),
            met: relative.map(|relative| relative >= 1.0),
        });
    }
    let spawn = summary
        .cell(Workload::ForkJoinCreate, Impl::Playhouse, SPAWNS_PER_SECOND)
        .map(|cell| cell.median);
    targets.push(Target {
        name: "spawn rate (fork-join-create, on a strand: spawned and each has handled a message)"
            .to_owned(),
        wanted: "≥ 1 M actors/s".to_owned(),
        measured: spawn.map_or_else(String::new, |rate| format!("{}/s", stats::si(rate))),
        met: spawn.map(|rate| rate >= 1e6),
    });
    let memory = summary
        .cell(Workload::ForkJoinCreate, Impl::Playhouse, BYTES_PER_ACTOR)
        .map(|cell| cell.median);
    let floor = summary
        .cell(Workload::ForkJoinCreate, Impl::Raw, BYTES_PER_ACTOR)
        .map_or_else(String::new, |cell| {
            format!(
                " (a raw tokio task with a bounded channel: {:.0} B)",
                cell.median
            )
        });
    targets.push(Target {
        name: "memory per idle actor (default mailbox, on a strand)".to_owned(),
        wanted: "≤ 768 B".to_owned(),
        measured: memory.map_or_else(String::new, |bytes| format!("{bytes:.0} B{floor}")),
        met: memory.map(|bytes| bytes <= 768.0),
    });
    let tracing = summary.ratio(Workload::Tracing, Impl::PlayhouseInfo, MESSAGES_PER_SECOND);
    targets.push(Target {
        name: "per-message `trace` spans when disabled (INFO subscriber vs none)".to_owned(),
        wanted: "no measurable cost (≥ 0.95x)".to_owned(),
        measured: summary.ratio_text(Workload::Tracing, Impl::PlayhouseInfo, MESSAGES_PER_SECOND),
        met: tracing.map(|ratio| ratio >= 0.95),
    });
    targets
}

fn ahead_of_every_peer(summary: &Summary) -> Target {
    let mut behind = Vec::new();
    let mut compared = 0;
    for &workload in &summary.workloads {
        if workload == Workload::Tracing {
            continue;
        }
        let mut losses = Vec::new();
        // Mean latency is the reciprocal of the ask rate: comparing both would count twice.
        for &metric in workload
            .metrics()
            .iter()
            .filter(|&&metric| metric != MEAN_LATENCY)
        {
            for peer in PEERS {
                let Some(relative) = summary.playhouse_over(workload, peer, metric) else {
                    continue;
                };
                compared += 1;
                if relative < 1.0 {
                    losses.push(format!(
                        "{} {} ({})",
                        peer.name(),
                        metric.unit,
                        stats::ratio(relative)
                    ));
                }
            }
        }
        if !losses.is_empty() {
            behind.push(format!("{}: {}", workload.name(), losses.join(", ")));
        }
    }
    Target {
        name: "every workload: ahead of every peer".to_owned(),
        wanted: "> 1x each".to_owned(),
        measured: if behind.is_empty() {
            format!("ahead in all {compared} comparisons")
        } else {
            format!("behind in: {}", behind.join("; "))
        },
        met: (compared > 0).then_some(behind.is_empty()),
    }
}

fn targets_table(summary: &Summary) -> String {
    let mut out = String::from("| target | wanted | measured | |\n| --- | --- | --- | --- |\n");
    for target in targets(summary) {
        let verdict = match target.met {
            Some(true) => "**met**",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {verdict} |",
            target.name, target.wanted, target.measured
        );
    }
    out
}

/// `BENCHMARKS.md`: results, targets, chart, machine, versions, method, how to rerun.
pub(crate) fn benchmarks_md(summary: &Summary) -> String {
    let machine = Machine::detect();
    let date = machine::today();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benchmarks\n\n\
         Playhouse against raw tokio channels and the actor libraries actix, ractor, kameo and\n\
         xtra, on workloads after the [Savina](https://github.com/shamsimam/savina) actor\n\
         benchmarks. Generated by the suite in [`benches/`](benches/) on {date}\n\
         ({} sizes, {} run{} of every pair, {:.0?} in all). Every case checked its own result.\n",
        summary.scale.name(),
        summary.runs,
        if summary.runs == 1 { "" } else { "s" },
        summary.wall,
    );
    out.push_str(
        "**Read the numbers with care.** The machine is small (see below) and was shared with\n\
         other builds while this ran, so absolute rates move between runs. Each implementation\n\
         is therefore measured next to the baseline, in the same minute, and the ratios (in\n\
         parentheses) are the medians of those pairwise ratios: they are the numbers to\n\
         compare. Above 1x is faster than the baseline (or, for ↓ metrics, lower).\n\n",
    );
    out.push_str(
        "## Targets\n\nThe performance targets of `DESIGN.md`, as ratios in this run.\n\n",
    );
    out.push_str(&targets_table(summary));
    out.push_str(
        "\n\"Ahead of every peer\" compares Playhouse's median ratio to the baseline with each \
         peer's, metric by metric; the number in parentheses is Playhouse's rate as a multiple \
         of that peer's (below 1x: slower).\n\n",
    );
    // What the generated numbers cannot say: where the missed targets go, from profiles
    // (hand-written, kept next to the suite).
    out.push_str(include_str!("../PROFILE.md"));
    out.push('\n');
    out.push_str("## Results\n\nMedians; in parentheses the median ratio to the baseline (raw tokio) taken pair by pair.\n\n");
    out.push_str(&results_table(summary));
    out.push_str(
        "\n![Each implementation's rate as a multiple of the raw tokio baseline, per workload \
         (log scale)](benches/chart.svg)\n\n",
    );
    out.push_str(&workloads_section(summary));
    out.push_str(&tracing_section(summary));
    out.push_str(&implementations_section());
    out.push_str(&method_section(summary));
    let _ = writeln!(
        out,
        "## Machine\n\n\
         | | |\n| --- | --- |\n\
         | CPU | {} |\n| cores | {} |\n| memory | {} |\n| OS | {} |\n| compiler | {} |\n\
         | profile | `bench` (release, `debug = 1`) |\n| date | {date} |\n",
        machine.cpu, machine.cores, machine.memory, machine.os, machine.rustc
    );
    out.push_str("## Versions\n\nFrom `Cargo.lock`, as compiled into this run.\n\n| crate | version |\n| --- | --- |\n");
    for name in machine::REPORTED_CRATES {
        let _ = writeln!(out, "| {name} | {} |", machine::locked_version(name));
    }
    out.push_str(
        "\n## How to rerun\n\n\
         ```sh\n\
         cargo bench -p playhouse-benches                       # the full suite: table on stdout\n\
         cargo bench -p playhouse-benches -- --write-report     # ... and rewrite this file and benches/chart.svg\n\
         cargo bench -p playhouse-benches -- --smoke            # tiny sizes, one run: what CI runs\n\
         cargo bench -p playhouse-benches -- --workload ask --runs 9 --csv\n\
         cargo bench -p playhouse-benches -- run --workload ping-pong --impl playhouse\n\
         cargo bench -p playhouse-benches -- list               # workloads, sizes, implementations\n\
         cargo bench -p playhouse-benches -- --from-samples benches/samples.csv --write-report  # re-render, no rerun\n\
         ```\n\n\
         `run` executes one case in the current process and prints its `RESULT,...` lines; it is\n\
         what the driver spawns, and the place to attach a profiler (`perf record -g -- \
         target/release/deps/suite-* run --workload counting --impl playhouse`).\n",
    );
    out
}

fn workloads_section(summary: &Summary) -> String {
    let mut out =
        String::from("## Workloads\n\n| workload | what | impls |\n| --- | --- | --- |\n");
    for &workload in &summary.workloads {
        let implementations: Vec<_> = std::iter::once(workload.baseline())
            .chain(workload.contenders().iter().copied())
            .map(Impl::name)
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            workload.name(),
            workload.describe(workload.params(summary.scale)),
            implementations.join(", ")
        );
    }
    out.push_str(
        "\nSizes follow the issue; Savina's standard parameters are scaled to run in seconds \
         on this machine: chameneos keeps Savina's 100 chameneos and 200,000 meetings, big keeps \
         its 120 actors but sends 5,000 pings each instead of 20,000, and the thread ring uses \
         1,000 actors and 1M hops (Savina: 100 and 100,000). Fork-join throughput sends its \
         messages round robin from one sender; fork-join creation times spawning until every \
         actor has handled its one message, then stopping until every actor has ended, and \
         divides the growth of resident memory (VmRSS) while all are alive and idle by their \
         number (the caller's one reference per actor included). Big counts pings and pongs as \
         messages.\n\n",
    );
    out
}

fn tracing_section(summary: &Summary) -> String {
    let mut out = String::from(
        "## Tracing cost\n\n\
         Playhouse opens a `trace`-level `actor.handle_message` span per message. The target is \
         that this costs nothing measurable while nobody listens at `trace`. The suite runs \
         Playhouse `counting` three ways, each paired with a run with no subscriber at all: with \
         a `fmt` subscriber at INFO (so `trace` is disabled, the usual production setting), and \
         with a registry that records every span (`trace` enabled, to show what listening costs). \
         The `tracing` crate is compiled in every time; a build with `tracing` compiled out \
         (`max_level_off`) would need a second binary and is not measured.\n\n",
    );
    if summary.workloads.contains(&Workload::Tracing) {
        out.push_str(&tracing_table(summary));
        out.push('\n');
    }
    out
}

fn implementations_section() -> String {
    format!(
        "## Implementations\n\n\
         Each is written the way that library's own README and examples write actors, not \
         translated from another. All run on a tokio multi-thread runtime with \
         {WORKER_THREADS} worker threads, and each workload's driving task runs on a worker too, \
         except actix.\n\n\
         - **raw tokio**: a task per actor looping on `recv` over an enum of its messages, a \
         `oneshot` for replies, stop by dropping the senders. Bounded `mpsc` channels of \
         {CAPACITY} slots, unbounded ones in `counting-unbounded`. The floor for any \
         tokio-based design.\n\
         - **Playhouse**: `#[derive(Actor)]`, `#[messages]`, `tell(..).await` (also from \
         handlers), `ask(..).await`, `stop()` and `wait()`. Default mailboxes (bounded, \
         {CAPACITY}), `Mailbox::unbounded()` in `counting-unbounded`. Actors that only talk \
         to each other (ping-pong, thread-ring, chameneos) and the idle actors of \
         fork-join-create share one `Strand` (one task that runs its actors in turns, \
         Playhouse's counterpart of an actix arbiter); the others are tasks of their own. \
         What the strand changes is measured below, under \"What changed the numbers\".\n\
         - **actix**: `Actor` + `Context`, `#[derive(Message)]`, `do_send` to tell, \
         `send(..).await` to ask, `Actor::start`. actix runs its own single-threaded `System`; \
         all actors live on its one arbiter thread, as they do unless a user spreads them over \
         arbiters by hand, so actix uses one thread where the others use {WORKER_THREADS}. \
         `do_send` ignores the mailbox capacity, so actix has no bounded `tell` and sits out \
         `counting`. Actors stop when their last `Addr` is dropped and report it in `stopped`.\n\
         - **ractor**: an `Actor` impl with a message enum and separate state, `cast!` and \
         `call!`, `Actor::spawn(None, ..)` (awaits `pre_start`), `stop(None)` and `wait`. Its \
         mailboxes are unbounded only, so it sits out `counting`.\n\
         - **kameo**: `#[derive(Actor)]`, a `Message<M>` impl per message, `tell(..).await`, \
         `ask(..).await`, `stop_gracefully` and `wait_for_shutdown`. Mailboxes \
         `mailbox::bounded({CAPACITY})` (kameo's default is 64; every bounded mailbox here has \
         the same capacity) or `mailbox::unbounded()`.\n\
         - **xtra**: `Actor` and `Handler<M>` impls, `xtra::spawn_tokio` with \
         `Mailbox::bounded({CAPACITY})` or `Mailbox::unbounded()`, `send(..).detach().await` to \
         tell, `send(..).await` to ask. Actors that others point to are held by `WeakAddress`; \
         stopping means dropping the last strong `Address` and joining. xtra 0.6 does not keep \
         one sender's messages in order (its mailbox is a binary heap on priority alone, xtra \
         issue #225): the final ask of `counting` overtook hundreds of tells, so the suite's \
         check failed until the tells that an ask must follow went at priority 1 (`send(..)\
         .priority(1)`), above the ask's default 0. Its ping-pong is erratic on this busy \
         machine (runs from a few seconds to half a minute), which the pairwise medians absorb \
         only in part.\n\n\
         All use the same completion latch (an atomic count and a `tokio::sync::Notify`), the \
         same message payloads and the same random peers in `big`.\n\n"
    )
}

fn method_section(summary: &Summary) -> String {
    format!(
        "## Method\n\n\
         - Every case (workload × implementation × repetition) runs in a fresh process: the \
         driver spawns itself with `run --workload W --impl I`. Message workloads first run once \
         at a tenth of their size in the same process to warm up (fork-join creation does not, \
         so that freed memory cannot hide in its RSS delta), then the timed run.\n\
         - Only the workload's own part is timed: actors are spawned and linked first, and \
         results are collected and checked after the clock stops (except where the final ask \
         is part of the workload, as in counting).\n\
         - Each result is verified: message counts and checksums (sums of the values sent, \
         where each hop of the ring landed, meetings reported, pings answered). A wrong result \
         or a case past its timeout fails the whole suite.\n\
         - Each contender runs right next to a baseline run, the pair's order alternating and \
         the contenders' order rotating between repetitions; ratios are taken within each pair \
         and their median is reported, with the median of the raw values. This run: {} \
         repetition{} of every pair.\n\n",
        summary.runs,
        if summary.runs == 1 { "" } else { "s" },
    )
}
