//! The plots of the reports, as SVG written here, so no plotting stack is needed: `Panel` draws
//! one chart (frame, grid, lines, a limit) on log or linear axes; `svg` is BENCHMARKS.md's
//! SearchCases p50 and p99 of each query against corpus size (two log-log panels), and the
//! reliability run draws its RSS over time with the same pieces.

use crate::report::Results;
use std::fmt::Write as _;

pub const COLORS: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
pub const PANEL_W: f64 = 420.0;
pub const PANEL_H: f64 = 300.0;
pub const MARGIN: f64 = 55.0;

/// How an axis maps values onto its extent.
#[derive(Clone, Copy)]
pub enum Scale {
    Log,
    Linear,
}

#[derive(Clone, Copy)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub scale: Scale,
}

impl Axis {
    /// Where `v` lies between `lo` (0) and `hi` (1).
    fn fraction(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log => (v.max(self.lo).log10() - self.lo.log10()) / (self.hi / self.lo).log10(),
            Scale::Linear => (v - self.lo) / (self.hi - self.lo).max(f64::MIN_POSITIVE),
        }
    }

    /// Round values to label: 1-2-5 per decade on a log axis, a 1-2-5 step giving at most
    /// eight ticks on a linear one.
    pub fn ticks(&self) -> Vec<f64> {
        let mut out = Vec::new();
        match self.scale {
            Scale::Log => {
                let mut t = 10f64.powf(self.lo.log10().floor());
                while t <= self.hi * 1.0001 {
                    for m in [1.0, 2.0, 5.0] {
                        let v = t * m;
                        if v >= self.lo * 0.9999 && v <= self.hi * 1.0001 {
                            out.push(v);
                        }
                    }
                    t *= 10.0;
                }
            }
            Scale::Linear => {
                let span = (self.hi - self.lo).max(f64::MIN_POSITIVE);
                let decade = 10f64.powf((span / 8.0).log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .into_iter()
                    .map(|m| m * decade)
                    .find(|s| span / s <= 8.0)
                    .unwrap_or(10.0 * decade);
                let mut v = (self.lo / step).ceil() * step;
                while v <= self.hi + step * 1e-9 {
                    out.push(v);
                    v += step;
                }
            }
        }
        out
    }
}

/// A short label: 1k, 2M, 0.5.
pub fn label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else if v >= 1.0 || v == 0.0 {
        format!("{v}")
    } else {
        format!("{v:.1}")
    }
}

/// The start of an SVG document of this size, on white.
pub fn begin(width: f64, height: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    s
}

/// A colour box and a name per series, from (`x`, `y`) down.
pub fn legend(s: &mut String, x: f64, y: f64, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        let y = y + i as f64 * 18.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{y}">{name}</text>"#,
            y - 10.0,
            COLORS[i % COLORS.len()],
            x + 18.0,
        );
    }
}

/// One chart: a `PANEL_W` × `PANEL_H` frame with its top left corner at (`x0`, `y0`).
pub struct Panel {
    pub x0: f64,
    pub y0: f64,
    pub x: Axis,
    pub y: Axis,
}

impl Panel {
    pub fn px(&self, x: f64) -> f64 {
        self.x0 + self.x.fraction(x) * PANEL_W
    }

    pub fn py(&self, y: f64) -> f64 {
        self.y0 + PANEL_H - self.y.fraction(y) * PANEL_H
    }

    /// The title above, the frame, and grid lines with labels at `x_ticks` and the y axis's
    /// own ticks; `x_title` under the x labels when it is not empty.
    pub fn frame(&self, s: &mut String, title: &str, x_ticks: &[f64], x_title: &str) {
        let (x0, y0) = (self.x0, self.y0);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{title}</text>"#,
            x0 + PANEL_W / 2.0,
            y0 - 15.0
        );
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#444"/>"##
        );
        for t in self.y.ticks() {
            let y = self.py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                x0 + PANEL_W,
                x0 - 5.0,
                y + 4.0,
                label(t)
            );
        }
        for &x in x_ticks {
            let xx = self.px(x);
            let _ = writeln!(
                s,
                r##"<line x1="{xx}" y1="{y0}" x2="{xx}" y2="{}" stroke="#ddd"/><text x="{xx}" y="{}" text-anchor="middle">{}</text>"##,
                y0 + PANEL_H,
                y0 + PANEL_H + 15.0,
                label(x)
            );
        }
        if !x_title.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{x_title}</text>"#,
                x0 + PANEL_W / 2.0,
                y0 + PANEL_H + 32.0
            );
        }
    }

    /// A line through `points` (in data units) in the `i`-th colour, with a dot on each point
    /// when `dots`.
    pub fn series(&self, s: &mut String, i: usize, points: &[(f64, f64)], dots: bool) {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.join(" ")
        );
        if dots {
            for &(x, y) in points {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                    self.px(x),
                    self.py(y)
                );
            }
        }
    }

    /// A dashed red horizontal line at `y` with `text` above its right end, if `y` is in range.
    pub fn limit(&self, s: &mut String, y: f64, text: &str) {
        if y > self.y.lo && y < self.y.hi {
            let yy = self.py(y);
            let _ = writeln!(
                s,
                r##"<line x1="{}" y1="{yy}" x2="{}" y2="{yy}" stroke="#d00" stroke-dasharray="5,4"/><text x="{}" y="{}" fill="#d00" text-anchor="end">{text}</text>"##,
                self.x0,
                self.x0 + PANEL_W,
                self.x0 + PANEL_W - 4.0,
                yy - 4.0
            );
        }
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
    let x = Axis {
        lo: sizes.iter().cloned().fold(f64::MAX, f64::min).min(1e4),
        hi: sizes.iter().cloned().fold(0.0, f64::max).max(1e4 * 1.01),
        scale: Scale::Log,
    };
    let y = Axis {
        lo: 10f64.powf(
            all.iter()
                .cloned()
                .fold(f64::MAX, f64::min)
                .max(0.01)
                .log10()
                .floor(),
        ),
        hi: 10f64.powf(all.iter().cloned().fold(0.1, f64::max).log10().ceil()),
        scale: Scale::Log,
    };
    let mut s = begin(2.0 * (PANEL_W + MARGIN) + 170.0, PANEL_H + 2.0 * MARGIN);
    for (panel, (title, p99)) in [("p50", false), ("p99", true)].into_iter().enumerate() {
        let p = Panel {
            x0: MARGIN + panel as f64 * (PANEL_W + MARGIN),
            y0: MARGIN,
            x,
            y,
        };
        p.frame(
            &mut s,
            &format!("SearchCases {title} (ms) vs cases"),
            &sizes,
            "",
        );
        for (i, name) in names.iter().enumerate() {
            let points: Vec<(f64, f64)> = r
                .sizes
                .iter()
                .filter_map(|sz| {
                    let q = sz.search.iter().find(|q| &q.name == name)?;
                    let v = if p99 { q.stats.p99_ms } else { q.stats.p50_ms };
                    Some((sz.cases as f64, v))
                })
                .collect();
            p.series(&mut s, i, &points, true);
        }
        // The targets: 5 ms for p50, 20 ms for p99.
        let limit = if p99 { 20.0 } else { 5.0 };
        p.limit(&mut s, limit, &format!("target {limit} ms"));
    }
    legend(
        &mut s,
        2.0 * (PANEL_W + MARGIN) + 20.0,
        MARGIN + 15.0,
        &names,
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_axis() {
        let a = Axis {
            lo: 0.0,
            hi: 130.0,
            scale: Scale::Linear,
        };
        assert_eq!(a.ticks(), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0]);
        let log = Axis {
            lo: 0.1,
            hi: 10.0,
            scale: Scale::Log,
        };
        assert_eq!(log.ticks(), vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn panels_map_the_axis_ends_to_the_frame() {
        let p = Panel {
            x0: 10.0,
            y0: 20.0,
            x: Axis {
                lo: 0.0,
                hi: 60.0,
                scale: Scale::Linear,
            },
            y: Axis {
                lo: 1.0,
                hi: 100.0,
                scale: Scale::Log,
            },
        };
        assert_eq!((p.px(0.0), p.px(60.0)), (10.0, 10.0 + PANEL_W));
        assert_eq!((p.py(1.0), p.py(100.0)), (20.0 + PANEL_H, 20.0));
    }
}
