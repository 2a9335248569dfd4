//! Bar charts as SVG, with the 95% interval drawn on each bar: the evaluation's safe rates and
//! the leakage report's R1 / R2 per category. Plain SVG (no script, no external style), colours
//! from CSS variables with fallbacks, so the page's dark mode applies.
//!
//! A chart is a tree of [`SvgNode`]s whose tag and attribute names are constants of this
//! module; labels (category names from a dataset, notes) are only ever text or attribute
//! *values*. The page turns the tree into DOM nodes one by one (`createElementNS`,
//! `setAttribute`, `textContent`), so no label is ever parsed as markup; [`SvgNode::to_markup`]
//! writes the same tree as escaped text for files and tests.

use crate::util::html::escape;

/// The SVG namespace, for `createElementNS`.
pub const SVG_NS: &str = "http://www.w3.org/2000/svg";

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

/// An SVG element: its tag and attribute names are this module's constants, its attribute
/// values and text are data.
#[derive(Clone, Debug, PartialEq)]
pub struct SvgNode {
    pub tag: &'static str,
    pub attributes: Vec<(&'static str, String)>,
    /// Text content (before the children).
    pub text: String,
    pub children: Vec<SvgNode>,
}

impl SvgNode {
    fn new(tag: &'static str, attributes: &[(&'static str, String)]) -> Self {
        Self {
            tag,
            attributes: attributes.to_vec(),
            text: String::new(),
            children: Vec::new(),
        }
    }

    fn with_text(mut self, text: String) -> Self {
        self.text = text;
        self
    }

    /// The tree as SVG text, every value and text escaped.
    pub fn to_markup(&self) -> String {
        let mut out = format!("<{}", self.tag);
        for (name, value) in &self.attributes {
            out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str("/>");
            return out;
        }
        out.push('>');
        out.push_str(&escape(&self.text));
        for child in &self.children {
            out.push_str(&child.to_markup());
        }
        out.push_str(&format!("</{}>", self.tag));
        out
    }
}

const ROW: f64 = 28.0;
const LABEL_W: f64 = 230.0;
const BAR_W: f64 = 320.0;
const VALUE_W: f64 = 70.0;

/// A horizontal bar chart, one row per bar, with a title for screen readers, as SVG text.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    bar_chart_tree(title, bars).to_markup()
}

/// [`bar_chart`] as a tree, for the page to build as DOM nodes.
pub fn bar_chart_tree(title: &str, bars: &[Bar]) -> SvgNode {
    let height = ROW * bars.len() as f64 + 24.0;
    let width = LABEL_W + BAR_W + VALUE_W;
    let mut svg = SvgNode::new(
        "svg",
        &[
            ("xmlns", SVG_NS.to_owned()),
            ("role", "img".to_owned()),
            ("viewBox", format!("0 0 {width} {height}")),
            ("width", "100%".to_owned()),
            ("aria-label", title.to_owned()),
        ],
    );
    svg.children
        .push(SvgNode::new("title", &[]).with_text(title.to_owned()));
    let fg = || ("fill", "var(--fg, #222)".to_owned());
    for (i, bar) in bars.iter().enumerate() {
        let y = ROW * i as f64;
        // A NaN rate (nothing counted) draws as an empty bar.
        let clamp = |v: f64| {
            if v.is_nan() {
                0.0
            } else {
                v.clamp(0.0, 1.0) * BAR_W
            }
        };
        let (value, low, high) = (clamp(bar.value), clamp(bar.low), clamp(bar.high));
        let label = if bar.note.is_empty() {
            bar.label.clone()
        } else {
            format!("{} ({})", bar.label, bar.note)
        };
        let ty = format!("{}", y + 16.0);
        let ry = format!("{}", y + 4.0);
        let my = format!("{}", y + 12.0);
        let mut g = SvgNode::new("g", &[]);
        g.children.push(
            SvgNode::new(
                "text",
                &[
                    ("x", format!("{}", LABEL_W - 8.0)),
                    ("y", ty.clone()),
                    ("text-anchor", "end".to_owned()),
                    ("font-size", "12".to_owned()),
                    fg(),
                ],
            )
            .with_text(label),
        );
        for (w, fill) in [
            (format!("{BAR_W}"), "var(--bar-bg, #e6e6e6)"),
            (format!("{value:.1}"), "var(--bar, #3465a4)"),
        ] {
            g.children.push(SvgNode::new(
                "rect",
                &[
                    ("x", format!("{LABEL_W}")),
                    ("y", ry.clone()),
                    ("width", w),
                    ("height", "16".to_owned()),
                    ("fill", fill.to_owned()),
                ],
            ));
        }
        g.children.push(SvgNode::new(
            "line",
            &[
                ("x1", format!("{:.1}", LABEL_W + low)),
                ("x2", format!("{:.1}", LABEL_W + high)),
                ("y1", my.clone()),
                ("y2", my),
                ("stroke", "var(--fg, #222)".to_owned()),
                ("stroke-width", "1.5".to_owned()),
            ],
        ));
        g.children.push(
            SvgNode::new(
                "text",
                &[
                    ("x", format!("{}", LABEL_W + BAR_W + 8.0)),
                    ("y", ty),
                    ("font-size", "12".to_owned()),
                    fg(),
                ],
            )
            .with_text(format!("{:.1}%", bar.value * 100.0)),
        );
        svg.children.push(g);
    }
    // Axis: 0, 50 and 100 %.
    let ay = format!("{}", ROW * bars.len() as f64 + 14.0);
    for (frac, text) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        svg.children.push(
            SvgNode::new(
                "text",
                &[
                    ("x", format!("{:.1}", LABEL_W + frac * BAR_W)),
                    ("y", ay.clone()),
                    ("font-size", "10".to_owned()),
                    ("text-anchor", "middle".to_owned()),
                    ("fill", "var(--muted, #666)".to_owned()),
                ],
            )
            .with_text(text.to_owned()),
        );
    }
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

    #[test]
    fn labels_are_data_in_the_tree() {
        let payload = "<img src=x onerror=alert(1)></svg><script>alert(2)</script>";
        let tree = bar_chart_tree(
            payload,
            &[Bar {
                label: payload.into(),
                value: f64::NAN,
                low: 0.0,
                high: 1.0,
                note: "\u{202E}n = 1".into(),
            }],
        );
        fn walk(n: &SvgNode, tags: &mut Vec<&'static str>) {
            tags.push(n.tag);
            n.children.iter().for_each(|c| walk(c, tags));
        }
        let mut tags = Vec::new();
        walk(&tree, &mut tags);
        assert!(
            tags.iter()
                .all(|t| ["svg", "title", "g", "text", "rect", "line"].contains(t))
        );
        let markup = tree.to_markup();
        assert!(
            !markup.contains("<img") && !markup.contains("<script"),
            "{markup}"
        );
        assert!(
            markup.contains("width=\"0.0\""),
            "a NaN rate draws an empty bar"
        );
    }
}
