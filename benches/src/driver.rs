//! The driver: runs every case in a fresh process, pairs each with the baseline, and
//! turns the samples into medians and ratios.
//!
//! The machine is shared and noisy, so no number is compared with one taken minutes
//! apart: each contender runs right next to a baseline run (which of the two goes first
//! alternates), the ratio is taken within that pair, and the report shows the median of
//! those ratios. Repetitions are the outer loop, so a burst of noise lands on one
//! repetition of many cases rather than on every repetition of one.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::case::RESULT_PREFIX;
use crate::cli::Options;
use crate::impls::Impl;
use crate::report::{self, Cell, Ratio, Summary};
use crate::stats;
use crate::workloads::{Metric, Scale, Workload};

/// Extra time the driver allows a case beyond its own watchdog.
const GRACE: Duration = Duration::from_secs(5);

/// One contender run next to one baseline run.
struct Pair {
    workload: Workload,
    contender: Impl,
    baseline_first: bool,
    repetition: usize,
}

/// One metric of one pair: the contender's value and the baseline's, measured together.
#[derive(Debug, Clone, Copy)]
struct Sample {
    workload: Workload,
    contender: Impl,
    metric: Metric,
    repetition: usize,
    value: f64,
    baseline: f64,
}

pub(crate) fn run(options: &Options) -> Result<(), String> {
    if let Some(path) = &options.from_samples {
        // `cargo bench` runs this from `benches/`; a relative path that is not found there
        // is read from the workspace root, where the documented command is typed.
        let path = if path.is_relative() && !path.exists() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            root.parent().unwrap_or(root).join(path)
        } else {
            path.clone()
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?;
        let (samples, scale, wall) = parse_samples(&text)?;
        let summary = summarize(&samples, scale, wall);
        return publish(&summary, &samples, options);
    }
    let exe = std::env::current_exe().map_err(|error| format!("cannot find myself: {error}"))?;
    let plan = plan(options);
    let total = plan.len() * 2;
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut done = 0;
    for pair in &plan {
        let baseline = pair.workload.baseline();
        let order = if pair.baseline_first {
            [baseline, pair.contender]
        } else {
            [pair.contender, baseline]
        };
        let mut measured = BTreeMap::new();
        for implementation in order {
            done += 1;
            let values = run_case(&exe, pair.workload, implementation, options)?;
            let primary = pair.workload.primary();
            eprintln!(
                "[{done:>4}/{total}] {:<21} {:<16} run {}/{}  {} {}",
                pair.workload.name(),
                implementation.name(),
                pair.repetition + 1,
                options.runs,
                stats::si(values.get(&primary).copied().unwrap_or(f64::NAN)),
                primary.unit,
            );
            measured.insert(implementation, values);
        }
        for &metric in pair.workload.metrics() {
            samples.push(Sample {
                workload: pair.workload,
                contender: pair.contender,
                metric,
                repetition: pair.repetition,
                value: measured[&pair.contender][&metric],
                baseline: measured[&baseline][&metric],
            });
        }
    }
    let wall = started.elapsed();
    publish(&summarize(&samples, options.scale, wall), &samples, options)?;
    eprintln!("{total} cases in {wall:.0?}, every result verified");
    Ok(())
}

/// Prints the tables (or CSV) and writes or checks the report.
fn publish(summary: &Summary, samples: &[Sample], options: &Options) -> Result<(), String> {
    if options.csv {
        print!("{}", report::csv(summary));
    } else {
        println!("{}", report::tables(summary));
    }
    let markdown = report::benchmarks_md(summary);
    let svg = crate::chart::svg(summary);
    if options.write_report {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = [
            (
                root.parent().unwrap_or(root).join("BENCHMARKS.md"),
                markdown,
            ),
            (root.join("chart.svg"), svg),
            (root.join("samples.csv"), samples_csv(samples, summary)),
        ];
        for (path, text) in files {
            std::fs::write(&path, text)
                .map_err(|error| format!("writing {}: {error}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    } else if !markdown.contains("| workload |") || !svg.starts_with("<svg") {
        // The smoke run renders both too, so that the report code keeps working.
        return Err("the report or the chart came out empty".to_owned());
    }
    Ok(())
}

/// Every pair's values, so that the report can be rendered again without a rerun
/// (`--from-samples benches/samples.csv`).
fn samples_csv(samples: &[Sample], summary: &Summary) -> String {
    let mut out = format!(
        "# scale={}\n# wall_seconds={:.0}\nworkload,impl,metric,repetition,value,baseline\n",
        summary.scale.name(),
        summary.wall.as_secs_f64()
    );
    for sample in samples {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            sample.workload.name(),
            sample.contender.name(),
            sample.metric.name,
            sample.repetition,
            sample.value,
            sample.baseline
        ));
    }
    out
}

fn parse_samples(text: &str) -> Result<(Vec<Sample>, Scale, Duration), String> {
    let mut wall = Duration::ZERO;
    let mut scale = Scale::Full;
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# scale=") {
            scale = Scale::parse(name).ok_or("bad scale")?;
            continue;
        }
        if let Some(seconds) = line.strip_prefix("# wall_seconds=") {
            wall = Duration::from_secs(seconds.parse().map_err(|_| "bad wall_seconds")?);
            continue;
        }
        if line.starts_with("workload,") || line.is_empty() {
            continue;
        }
        let bad = || format!("malformed sample line {line:?}");
        let fields: Vec<&str> = line.split(',').collect();
        let [workload, contender, metric, repetition, value, baseline] = fields[..] else {
            return Err(bad());
        };
        let workload = Workload::parse(workload).ok_or_else(bad)?;
        samples.push(Sample {
            workload,
            contender: Impl::parse(contender).ok_or_else(bad)?,
            metric: *workload
                .metrics()
                .iter()
                .find(|known| known.name == metric)
                .ok_or_else(bad)?,
            repetition: repetition.parse().map_err(|_| bad())?,
            value: value.parse().map_err(|_| bad())?,
            baseline: baseline.parse().map_err(|_| bad())?,
        });
    }
    Ok((samples, scale, wall))
}

/// Repetitions outermost; within one, each workload's contenders in a rotating order,
/// each next to a baseline run, the pair's order alternating.
fn plan(options: &Options) -> Vec<Pair> {
    let mut plan = Vec::new();
    for repetition in 0..options.runs {
        for &workload in &options.workloads {
            let contenders = workload.contenders();
            for index in 0..contenders.len() {
                let contender = contenders[(index + repetition) % contenders.len()];
                plan.push(Pair {
                    workload,
                    contender,
                    baseline_first: (index + repetition) % 2 == 0,
                    repetition,
                });
            }
        }
    }
    plan
}

/// Runs one case in a fresh process and returns its metrics.
fn run_case(
    exe: &Path,
    workload: Workload,
    implementation: Impl,
    options: &Options,
) -> Result<BTreeMap<Metric, f64>, String> {
    let case = format!("{} {}", workload.name(), implementation.name());
    let mut child = Command::new(exe)
        .args([
            "run",
            "--workload",
            workload.name(),
            "--impl",
            implementation.name(),
            "--scale",
            options.scale.name(),
            "--timeout",
            &options.timeout.as_secs().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{case}: cannot start: {error}"))?;
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let deadline = Instant::now() + options.timeout + GRACE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{case}: timed out after {:?}",
                    options.timeout + GRACE
                ));
            }
            Err(error) => return Err(format!("{case}: {error}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{case}: FAILED ({status})\n{stderr}"));
    }
    let mut values = BTreeMap::new();
    for line in stdout.lines() {
        let Some(fields) = line.strip_prefix(RESULT_PREFIX) else {
            continue;
        };
        let fields: Vec<&str> = fields.split(',').collect();
        let [_, _, name, value] = fields[..] else {
            return Err(format!("{case}: malformed result line {line:?}"));
        };
        let metric = workload
            .metrics()
            .iter()
            .find(|metric| metric.name == name)
            .ok_or_else(|| format!("{case}: unknown metric {name}"))?;
        let value: f64 = value
            .parse()
            .map_err(|_| format!("{case}: malformed value in {line:?}"))?;
        // Rates must be positive; a memory delta may be zero at smoke sizes.
        if !value.is_finite() || value < 0.0 || (metric.higher_is_better && value == 0.0) {
            return Err(format!("{case}: implausible {name} = {value}"));
        }
        values.insert(*metric, value);
    }
    for metric in workload.metrics() {
        if !values.contains_key(metric) {
            return Err(format!("{case}: reported no {}\n{stderr}", metric.name));
        }
    }
    Ok(values)
}

fn read_in_background<R: Read + Send + 'static>(
    pipe: Option<R>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

fn summarize(samples: &[Sample], scale: Scale, wall: Duration) -> Summary {
    let mut values: BTreeMap<(Workload, Impl, Metric), Vec<f64>> = BTreeMap::new();
    let mut ratios: BTreeMap<(Workload, Impl, Metric), Vec<f64>> = BTreeMap::new();
    let mut runs = 0;
    for sample in samples {
        let key = (sample.workload, sample.contender, sample.metric);
        let baseline_key = (sample.workload, sample.workload.baseline(), sample.metric);
        values.entry(key).or_default().push(sample.value);
        values
            .entry(baseline_key)
            .or_default()
            .push(sample.baseline);
        ratios
            .entry(key)
            .or_default()
            .push(sample.value / sample.baseline);
        runs = runs.max(sample.repetition + 1);
    }
    let cells = values
        .iter()
        .map(|(&key, values)| {
            let ratio = ratios.get(&key).map(|ratios| {
                let (low, high) = stats::range(ratios);
                Ratio {
                    median: stats::median(ratios),
                    low,
                    high,
                }
            });
            let cell = Cell {
                median: stats::median(values),
                ratio,
            };
            (key, cell)
        })
        .collect();
    let workloads = Workload::ALL
        .into_iter()
        .filter(|workload| samples.iter().any(|sample| sample.workload == *workload))
        .collect();
    Summary {
        scale,
        runs,
        workloads,
        cells,
        wall,
    }
}
