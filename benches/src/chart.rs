//! The chart of `BENCHMARKS.md`: a hand-written SVG of each implementation's rate as a
//! multiple of the raw tokio baseline, per workload, on a log scale. Bars grow up from the
//! 1x line when faster than the baseline and down when slower.

use std::fmt::Write;

use crate::impls::Impl;
use crate::report::{Summary, PEERS};
use crate::workloads::Workload;

const BAR: f64 = 14.0;
const GAP: f64 = 18.0;
const LEFT: f64 = 64.0;
const TOP: f64 = 58.0;
const PLOT_HEIGHT: f64 = 300.0;
const BOTTOM: f64 = 96.0;

fn color(implementation: Impl) -> &'static str {
    match implementation {
        Impl::Playhouse => "#d1495b",
        Impl::Actix => "#66a182",
        Impl::Ractor => "#edae49",
        Impl::Kameo => "#00798c",
        Impl::Xtra => "#8d6a9f",
        _ => "#888888",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) fn svg(summary: &Summary) -> String {
    let implementations: Vec<Impl> = std::iter::once(Impl::Playhouse).chain(PEERS).collect();
    let workloads: Vec<Workload> = summary
        .workloads
        .iter()
        .copied()
        .filter(|workload| workload.baseline() == Impl::Raw)
        .collect();
    let ratio = |workload: Workload, implementation: Impl| {
        summary
            .ratio(workload, implementation, workload.primary())
            .filter(|ratio| ratio.is_finite() && *ratio > 0.0)
    };
    // The axis spans whole powers of two around every ratio, and always 1x.
    let (mut low, mut high) = (1.0_f64, 1.0_f64);
    for &workload in &workloads {
        for &implementation in &implementations {
            if let Some(value) = ratio(workload, implementation) {
                low = low.min(value);
                high = high.max(value);
            }
        }
    }
    let (low_exp, high_exp) = (
        low.log2().floor().min(-1.0) as i32,
        high.log2().ceil().max(1.0) as i32,
    );
    let span = f64::from(high_exp - low_exp);
    let y = |value: f64| TOP + PLOT_HEIGHT * (f64::from(high_exp) - value.log2()) / span;

    let group = implementations.len() as f64 * BAR + GAP;
    let width = LEFT + group * workloads.len() as f64 + 24.0;
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{LEFT}" y="18" font-size="14" font-weight="bold">Rate as a multiple of raw tokio channels; above 1x is faster (median of pairwise ratios, log scale)</text>"##
    );
    // Legend.
    let mut x = LEFT;
    for &implementation in &implementations {
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="30" width="10" height="10" fill="{}"/><text x="{:.1}" y="39">{}</text>"#,
            color(implementation),
            x + 14.0,
            implementation.title()
        );
        x += 24.0 + 7.0 * implementation.title().len() as f64;
    }
    // Grid lines at powers of two, the 1x line in black.
    for exponent in low_exp..=high_exp {
        let value = 2f64.powi(exponent);
        let line_y = y(value);
        let (stroke, dash) = if exponent == 0 {
            ("#000000", "")
        } else {
            ("#cccccc", r#" stroke-dasharray="3,3""#)
        };
        let label = if value >= 1.0 {
            format!("{value:.0}x")
        } else {
            format!("1/{:.0}x", 1.0 / value)
        };
        let _ = writeln!(
            out,
            r#"<line x1="{LEFT}" y1="{line_y:.1}" x2="{:.1}" y2="{line_y:.1}" stroke="{stroke}"{dash}/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            width - 16.0,
            LEFT - 6.0,
            line_y + 4.0
        );
    }
    let one = y(1.0);
    for (index, &workload) in workloads.iter().enumerate() {
        let group_x = LEFT + GAP / 2.0 + group * index as f64;
        for (slot, &implementation) in implementations.iter().enumerate() {
            let Some(value) = ratio(workload, implementation) else {
                continue;
            };
            let bar_x = group_x + BAR * slot as f64;
            let top = y(value).min(one);
            let bar_height = (y(value) - one).abs().max(1.0);
            let _ = writeln!(
                out,
                r#"<rect x="{bar_x:.1}" y="{top:.1}" width="{:.1}" height="{bar_height:.1}" fill="{}"><title>{} {}: {value:.2}x</title></rect>"#,
                BAR - 2.0,
                color(implementation),
                workload.name(),
                implementation.title()
            );
        }
        let label_x = group_x + group / 2.0 - GAP / 2.0;
        let label_y = TOP + PLOT_HEIGHT + 14.0;
        let _ = writeln!(
            out,
            r#"<text x="{label_x:.1}" y="{label_y:.1}" text-anchor="end" transform="rotate(-35 {label_x:.1} {label_y:.1})">{}</text>"#,
            escape(workload.name())
        );
    }
    out.push_str("</svg>\n");
    out
}
