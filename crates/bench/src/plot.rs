//! The plot of BENCHMARKS.md: SearchCases p50 and p99 of each query against corpus size, as an
//! SVG written here (two log-log panels), so no plotting stack is needed.

use crate::report::Results;
use std::fmt::Write as _;

const COLORS: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 300.0;
const MARGIN: f64 = 55.0;

fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = 10f64.powf(lo.log10().floor());
    while t <= hi * 1.0001 {
        for m in [1.0, 2.0, 5.0] {
            let v = t * m;
            if v >= lo * 0.9999 && v <= hi * 1.0001 {
                out.push(v);
            }
        }
        t *= 10.0;
    }
    out
}

fn label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else if v >= 1.0 {
        format!("{v}")
    } else {
        format!("{v:.1}")
    }
}

pub fn svg(r: &Results) -> String {
    let sizes: Vec<f64> = r.sizes.iter().map(|s| s.cases as f64).collect();
    let names: Vec<String> = r
        .sizes
        .first()
        .map(|s| s.search.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    let all: Vec<f64> = r
        .sizes
        .iter()
        .flat_map(|s| {
            s.search
                .iter()
                .flat_map(|q| [q.stats.p50_ms, q.stats.p99_ms])
        })
        .filter(|v| *v > 0.0)
        .collect();
    let (xlo, xhi) = (
        sizes.iter().cloned().fold(f64::MAX, f64::min).min(1e4),
        sizes.iter().cloned().fold(0.0, f64::max).max(1e4 * 1.01),
    );
    let ylo = 10f64.powf(
        all.iter()
            .cloned()
            .fold(f64::MAX, f64::min)
            .max(0.01)
            .log10()
            .floor(),
    );
    let yhi = 10f64.powf(all.iter().cloned().fold(0.1, f64::max).log10().ceil());
    let width = 2.0 * (PANEL_W + MARGIN) + 170.0;
    let height = PANEL_H + 2.0 * MARGIN;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (panel, (title, p99)) in [("p50", false), ("p99", true)].into_iter().enumerate() {
        let x0 = MARGIN + panel as f64 * (PANEL_W + MARGIN);
        let y0 = MARGIN;
        let px = |x: f64| x0 + (x.log10() - xlo.log10()) / (xhi.log10() - xlo.log10()) * PANEL_W;
        let py = |y: f64| {
            y0 + PANEL_H
                - (y.max(ylo).log10() - ylo.log10()) / (yhi.log10() - ylo.log10()) * PANEL_H
        };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">SearchCases {title} (ms) vs cases</text>"#,
            x0 + PANEL_W / 2.0,
            y0 - 15.0
        );
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#444"/>"##
        );
        for t in log_ticks(ylo, yhi) {
            let y = py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                x0 + PANEL_W,
                x0 - 5.0,
                y + 4.0,
                label(t)
            );
        }
        for &x in &sizes {
            let xx = px(x);
            let _ = writeln!(
                s,
                r##"<line x1="{xx}" y1="{y0}" x2="{xx}" y2="{}" stroke="#ddd"/><text x="{xx}" y="{}" text-anchor="middle">{}</text>"##,
                y0 + PANEL_H,
                y0 + PANEL_H + 15.0,
                label(x)
            );
        }
        for (i, name) in names.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let points: Vec<(f64, f64)> = r
                .sizes
                .iter()
                .filter_map(|sz| {
                    let q = sz.search.iter().find(|q| &q.name == name)?;
                    let v = if p99 { q.stats.p99_ms } else { q.stats.p50_ms };
                    Some((px(sz.cases as f64), py(v)))
                })
                .collect();
            let path: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                path.join(" ")
            );
            for (x, y) in points {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#
                );
            }
        }
        // The targets: 5 ms for p50, 20 ms for p99.
        let limit = if p99 { 20.0 } else { 5.0 };
        if limit > ylo && limit < yhi {
            let y = py(limit);
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#d00" stroke-dasharray="5,4"/><text x="{}" y="{}" fill="#d00" text-anchor="end">target {limit} ms</text>"##,
                x0 + PANEL_W,
                x0 + PANEL_W - 4.0,
                y - 4.0
            );
        }
    }
    let lx = 2.0 * (PANEL_W + MARGIN) + 20.0;
    for (i, name) in names.iter().enumerate() {
        let y = MARGIN + 15.0 + i as f64 * 18.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{name}</text>"#,
            y - 10.0,
            COLORS[i % COLORS.len()],
            lx + 18.0,
            y
        );
    }
    s.push_str("</svg>\n");
    s
}
