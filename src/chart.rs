//! Bar charts as SVG text, with the 95% interval drawn on each bar: the evaluation's safe rates
//! and the leakage report's R1 / R2 per category. Plain SVG (no script, no external style) so it
//! can be shown in the page, saved, and checked in tests; colours come from CSS variables with
//! fallbacks, so the page's dark mode applies.

use crate::util::html::escape;

/// One bar: a rate in [0, 1] with its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Shown after the label, e.g. "n = 590".
    pub note: String,
}

const ROW: f64 = 28.0;
const LABEL_W: f64 = 230.0;
const BAR_W: f64 = 320.0;
const VALUE_W: f64 = 70.0;

/// A horizontal bar chart, one row per bar, with a title for screen readers.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let height = ROW * bars.len() as f64 + 24.0;
    let width = LABEL_W + BAR_W + VALUE_W;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {width} {height}\" \
         width=\"100%\" aria-label=\"{t}\"><title>{t}</title>",
        t = escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = ROW * i as f64;
        let clamp = |v: f64| v.clamp(0.0, 1.0) * BAR_W;
        let (value, low, high) = (clamp(bar.value), clamp(bar.low), clamp(bar.high));
        let label = if bar.note.is_empty() {
            escape(&bar.label)
        } else {
            format!("{} ({})", escape(&bar.label), escape(&bar.note))
        };
        svg.push_str(&format!(
            "<g><text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\" \
             fill=\"var(--fg, #222)\">{label}</text>\
             <rect x=\"{bx}\" y=\"{ry}\" width=\"{BAR_W}\" height=\"16\" fill=\"var(--bar-bg, #e6e6e6)\"/>\
             <rect x=\"{bx}\" y=\"{ry}\" width=\"{value:.1}\" height=\"16\" fill=\"var(--bar, #3465a4)\"/>\
             <line x1=\"{l:.1}\" x2=\"{h:.1}\" y1=\"{my}\" y2=\"{my}\" stroke=\"var(--fg, #222)\" stroke-width=\"1.5\"/>\
             <text x=\"{vx}\" y=\"{ty}\" font-size=\"12\" fill=\"var(--fg, #222)\">{pct:.1}%</text></g>",
            lx = LABEL_W - 8.0,
            ty = y + 16.0,
            bx = LABEL_W,
            ry = y + 4.0,
            l = LABEL_W + low,
            h = LABEL_W + high,
            my = y + 12.0,
            vx = LABEL_W + BAR_W + 8.0,
            pct = bar.value * 100.0,
        ));
    }
    // Axis: 0, 50 and 100 %.
    let ay = ROW * bars.len() as f64 + 14.0;
    for (frac, text) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{ay}\" font-size=\"10\" text-anchor=\"middle\" \
             fill=\"var(--muted, #666)\">{text}</text>",
            LABEL_W + frac * BAR_W
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_escaped_clamped_and_labelled() {
        let svg = bar_chart(
            "Safe rate <by category>",
            &[
                Bar {
                    label: "Hate & \"Harm\"".into(),
                    value: 0.25,
                    low: 0.1,
                    high: 0.4,
                    note: "n = 4".into(),
                },
                Bar {
                    label: "x".into(),
                    value: 1.5,
                    low: -1.0,
                    high: 2.0,
                    note: String::new(),
                },
            ],
        );
        assert!(svg.contains("<title>Safe rate &lt;by category&gt;</title>"));
        assert!(svg.contains("Hate &amp; &quot;Harm&quot; (n = 4)"));
        assert!(svg.contains("25.0%"));
        assert!(
            svg.contains(&format!("width=\"{:.1}\"", BAR_W)),
            "1.5 is clamped to 100%"
        );
        assert!(!svg.contains("<script"));
        assert_eq!(svg.matches("<g>").count(), 2);
    }
}
