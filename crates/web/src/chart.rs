//! Charts drawn on the server as inline SVG: no chart library, no script,
//! readable by screen readers (each chart has a title and its data is also
//! in a table on the page), and sized up front so nothing shifts on load.

use crate::error::escape;

/// A horizontal bar chart: one bar per label, scaled to the largest value.
/// `fmt` renders a value for the bar's end label.
pub fn bars(title: &str, data: &[(String, f64)], fmt: impl Fn(f64) -> String) -> String {
    const W: f64 = 640.0;
    const ROW: f64 = 28.0;
    const LABEL: f64 = 190.0;
    const VALUE: f64 = 90.0;
    let h = (data.len().max(1) as f64) * ROW + 8.0;
    let max = data.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {h}\" width=\"100%\" role=\"img\" aria-label=\"{t}\" \
         preserveAspectRatio=\"xMinYMin meet\"><title>{t}</title>",
        t = escape(title)
    );
    if data.is_empty() {
        s.push_str("<text x=\"0\" y=\"20\" class=\"muted\">—</text>");
    }
    for (i, (label, v)) in data.iter().enumerate() {
        let y = i as f64 * ROW + 4.0;
        let len = if max > 0.0 {
            (W - LABEL - VALUE) * v / max
        } else {
            0.0
        };
        s.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{l}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{len:.1}\" height=\"{bh}\" rx=\"3\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{val}</text>",
            lx = LABEL - 8.0,
            ty = y + ROW * 0.62,
            l = escape(&truncate(label, 26)),
            bh = ROW - 8.0,
            vx = LABEL + len + 6.0,
            val = escape(&fmt(*v)),
        ));
    }
    s.push_str("</svg>");
    s
}

/// Columns per day: two series (e.g. created and resolved) side by side.
pub fn daily(title: &str, days: &[(String, i64, i64)], legend: (&str, &str)) -> String {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const BASE: f64 = 150.0;
    let n = days.len().max(1) as f64;
    let slot = W / n;
    let max = days
        .iter()
        .map(|(_, a, b)| (*a).max(*b))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = format!(
        "<svg class=\"chart daily\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"{t}\" \
         preserveAspectRatio=\"xMinYMin meet\"><title>{t}</title>\
         <line x1=\"0\" y1=\"{BASE}\" x2=\"{W}\" y2=\"{BASE}\" class=\"axis\"></line>",
        t = escape(title)
    );
    for (i, (day, a, b)) in days.iter().enumerate() {
        let x = i as f64 * slot;
        let bw = (slot * 0.4).max(1.0);
        let ha = (BASE - 10.0) * (*a as f64) / max;
        let hb = (BASE - 10.0) * (*b as f64) / max;
        s.push_str(&format!(
            "<rect class=\"a\" x=\"{x1:.1}\" y=\"{ya:.1}\" width=\"{bw:.1}\" height=\"{ha:.1}\"><title>{d}: {a}</title></rect>\
             <rect class=\"b\" x=\"{x2:.1}\" y=\"{yb:.1}\" width=\"{bw:.1}\" height=\"{hb:.1}\"><title>{d}: {b}</title></rect>",
            x1 = x + slot * 0.1,
            x2 = x + slot * 0.5,
            ya = BASE - ha,
            yb = BASE - hb,
            d = escape(day),
        ));
        // Label every few days so labels never overlap.
        let every = (days.len() / 8).max(1);
        if i % every == 0 {
            s.push_str(&format!(
                "<text x=\"{tx:.1}\" y=\"{ty}\" class=\"small\">{d}</text>",
                tx = x + 2.0,
                ty = BASE + 16.0,
                d = escape(day.get(5..).unwrap_or(day)),
            ));
        }
    }
    s.push_str(&format!(
        "<rect class=\"a\" x=\"0\" y=\"{ly}\" width=\"10\" height=\"10\"></rect><text x=\"14\" y=\"{ty}\" class=\"small\">{la}</text>\
         <rect class=\"b\" x=\"120\" y=\"{ly}\" width=\"10\" height=\"10\"></rect><text x=\"134\" y=\"{ty}\" class=\"small\">{lb}</text></svg>",
        ly = H - 12.0,
        ty = H - 3.0,
        la = escape(legend.0),
        lb = escape(legend.1),
    ));
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = bars("t", &[("<A>".into(), 10.0), ("B".into(), 5.0)], |v| {
            format!("{v}")
        });
        assert!(svg.contains("&lt;A&gt;"));
        assert!(!svg.contains("<A>"));
        // The largest bar spans the whole bar area (640 - 190 - 90 = 360).
        assert!(svg.contains("width=\"360.0\""));
        assert!(svg.contains("width=\"180.0\""));
    }

    #[test]
    fn empty_data_still_renders() {
        assert!(bars("t", &[], |v| v.to_string()).contains("</svg>"));
        assert!(daily("t", &[], ("a", "b")).contains("</svg>"));
    }
}
