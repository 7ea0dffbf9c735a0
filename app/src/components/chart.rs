//! Charts drawn on the server as SVG (no charting library in the bundle):
//! a stacked bar per minute, a `<title>` on every bar for the values on
//! hover, a legend that names each series (never colour alone), and the
//! same numbers as a table behind a disclosure for screen readers. Also a
//! sparkline for table cells and a usage line against its limits.
//!
//! Charts have no behaviour of their own, so each is written as one HTML
//! string (`inner_html`) rather than a view tree: the browser bundle then
//! carries a few string builders instead of a view type per element.
//! Every piece of data is escaped ([`esc`]).
use std::fmt::Write as _;

use leptos::prelude::*;

use crate::components::text::iso;

/// `x` with one decimal, written with integer formatting: float
/// formatting would pull core's float printer (~11 KB) into the bundle.
pub fn d1(x: f64) -> String {
    let t = (x * 10.0).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    format!("{sign}{}.{}", t.abs() / 10, t.abs() % 10)
}

/// HTML-escape text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fill and legend swatch per series, by name.
fn colour(series: &str) -> &'static str {
    match series {
        "completed" => "fill-green-600 dark:fill-green-500",
        "failed" => "fill-red-600 dark:fill-red-500",
        "cancelled" => "fill-slate-400 dark:fill-slate-500",
        "expired" => "fill-orange-500 dark:fill-orange-400",
        "retried" => "fill-sky-500 dark:fill-sky-400",
        _ => "fill-violet-500 dark:fill-violet-400",
    }
}

fn hhmm(t: i64) -> String {
    iso(t)[11..16].to_owned()
}

/// A disclosure with the chart's numbers as a table.
fn table(out: &mut String, testid: Option<&str>, head: &[String], rows: &[Vec<String>]) {
    let id = testid.map(|t| format!(" data-testid=\"{}\"", esc(t))).unwrap_or_default();
    let _ = write!(out, "<details class=\"mt-2 text-xs\"><summary class=\"cursor-pointer text-slate-500\">Show as a table</summary><table class=\"mt-1\"{id}><thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let align = if i == 0 { "text-left" } else { "text-right" };
        let _ = write!(out, "<th class=\"{align}\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"text-right tabular-nums\"" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></details>");
}

/// Stacked bars, one per bucket: `buckets` are `(start ms, count per series)`.
pub fn stacked_bars(title: &str, series: &[String], buckets: &[(i64, Vec<u32>)], testid: &str) -> String {
    const W: f64 = 720.0;
    const H: f64 = 160.0;
    const PAD: f64 = 24.0;
    let max = buckets.iter().map(|(_, c)| c.iter().sum::<u32>()).max().unwrap_or(0).max(1);
    let bar = W / buckets.len().max(1) as f64;
    let scale = (H - PAD) / f64::from(max);
    let totals: Vec<u32> = (0..series.len()).map(|i| buckets.iter().map(|(_, c)| c.get(i).copied().unwrap_or(0)).sum()).collect();
    let first = buckets.first().map(|(t, _)| hhmm(*t)).unwrap_or_default();
    let last = buckets.last().map(|(t, _)| hhmm(*t)).unwrap_or_default();
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure data-testid=\"{}\" class=\"rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900\">\
         <figcaption class=\"mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1 text-sm\"><span class=\"font-medium\">{}</span>",
        esc(testid),
        esc(title)
    );
    for (s, n) in series.iter().zip(&totals) {
        let _ = write!(
            o,
            "<span class=\"inline-flex items-center gap-1 text-xs\"><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" class=\"{}\"></rect></svg>{} {n}</span>",
            colour(s),
            esc(s)
        );
    }
    let _ = write!(
        o,
        "<span class=\"text-xs text-slate-500\">peak {max}/min</span></figcaption>\
         <svg viewBox=\"0 0 720 160\" class=\"h-auto w-full\" role=\"img\" aria-label=\"{}, {first} to {last} UTC\">\
         <line x1=\"0\" x2=\"720\" y1=\"136\" y2=\"136\" class=\"stroke-slate-300 dark:stroke-slate-700\"></line>",
        esc(title)
    );
    for (i, (at, counts)) in buckets.iter().enumerate() {
        let x = i as f64 * bar;
        let label = series.iter().zip(counts).map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ");
        // The whole column answers hover, not only its filled part.
        let _ = write!(
            o,
            "<g data-testid=\"chart-bar\"><title>{} UTC: {}</title><rect x=\"{}\" y=\"0\" width=\"{}\" height=\"136\" class=\"fill-transparent hover:fill-slate-200/40 dark:hover:fill-slate-700/40\"></rect>",
            hhmm(*at),
            esc(&label),
            d1(x),
            d1(bar)
        );
        let mut y = H - PAD;
        for (s, n) in series.iter().zip(counts).filter(|(_, n)| **n > 0) {
            let h = f64::from(*n) * scale;
            y -= h;
            let _ = write!(o, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}\"></rect>", d1(x + 1.0), d1(y), d1((bar - 2.0).max(1.0)), d1(h), colour(s));
        }
        o.push_str("</g>");
    }
    let _ = write!(
        o,
        "<text x=\"0\" y=\"154\" class=\"fill-slate-500 text-[10px]\">{first}</text><text x=\"720\" y=\"154\" text-anchor=\"end\" class=\"fill-slate-500 text-[10px]\">{last} UTC</text></svg>"
    );
    let head: Vec<String> = std::iter::once("Minute (UTC)".to_owned()).chain(series.iter().cloned()).collect();
    let rows: Vec<Vec<String>> = buckets
        .iter()
        .filter(|(_, c)| c.iter().any(|n| *n > 0))
        .map(|(at, c)| std::iter::once(hhmm(*at)).chain(c.iter().map(u32::to_string)).collect())
        .collect();
    table(&mut o, Some(&format!("{testid}-table")), &head, &rows);
    o.push_str("</figure>");
    o
}

/// [`stacked_bars`] as a view.
#[component]
pub fn StackedBars(
    #[prop(into)] title: String,
    series: Vec<String>,
    buckets: Vec<(i64, Vec<u32>)>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    view! { <div inner_html=stacked_bars(&title, &series, &buckets, &testid)></div> }
}

/// A small line of per-minute values for a table cell; the label says the
/// figures (peak, last) in words.
pub fn sparkline(values: &[u64], label: &str) -> String {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = W / (values.len().max(2) - 1) as f64;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{},{}", d1(i as f64 * step), d1(H - 1.0 - (*v as f64 / max) * (H - 2.0))))
        .collect::<Vec<_>>()
        .join(" ");
    let label = esc(label);
    format!(
        "<svg viewBox=\"0 0 120 24\" width=\"120\" height=\"24\" role=\"img\" aria-label=\"{label}\" data-testid=\"sparkline\"><title>{label}</title>\
         <polyline points=\"{points}\" fill=\"none\" stroke-width=\"1.5\" class=\"stroke-blue-600 dark:stroke-blue-400\"></polyline></svg>"
    )
}

/// Usage of one budget dimension over the last hour up to `now`, one point
/// a minute, against its soft and hard limits (dashed, named).
pub fn usage_chart(name: &str, points: &[(i64, u64)], soft: Option<u64>, hard: Option<u64>, now: i64) -> String {
    const W: f64 = 480.0;
    const H: f64 = 120.0;
    const PAD: f64 = 16.0;
    let top = points.iter().map(|(_, v)| *v).chain(soft).chain(hard).max().unwrap_or(0).max(1) as f64 * 1.1;
    let from = now - 3_600_000;
    let x = |t: i64| ((t - from).clamp(0, 3_600_000) as f64 / 3_600_000.0) * W;
    let y = |v: u64| H - PAD - (v as f64 / top) * (H - 2.0 * PAD);
    let n = esc(name);
    let mut o = format!(
        "<figure data-testid=\"usage-chart\" data-dimension=\"{n}\" class=\"mt-3\"><figcaption class=\"text-xs text-slate-500\">{n}: usage over the last hour (sampled by the board once a minute)</figcaption>"
    );
    if points.is_empty() {
        o.push_str("<p class=\"text-xs text-slate-500\" data-testid=\"usage-empty\">No sample yet: the board samples usage once a minute.</p></figure>");
        return o;
    }
    let _ = write!(
        o,
        "<svg viewBox=\"0 0 480 120\" class=\"h-auto w-full\" role=\"img\" aria-label=\"{n} used over the last hour, {} samples\">\
         <line x1=\"0\" x2=\"480\" y1=\"104\" y2=\"104\" class=\"stroke-slate-300 dark:stroke-slate-700\"></line>",
        points.len()
    );
    for (v, label, class) in [(soft, "soft", "stroke-amber-500"), (hard, "hard", "stroke-red-600 dark:stroke-red-500")] {
        if let Some(v) = v {
            let _ = write!(
                o,
                "<line x1=\"0\" x2=\"480\" y1=\"{0}\" y2=\"{0}\" stroke-dasharray=\"4 3\" class=\"{class}\"></line>\
                 <text x=\"480\" y=\"{1}\" text-anchor=\"end\" class=\"fill-slate-500 text-[10px]\">{label} {v}</text>",
                d1(y(v)),
                d1(y(v) - 2.0)
            );
        }
    }
    let line = points.iter().map(|(t, v)| format!("{},{}", d1(x(*t)), d1(y(*v)))).collect::<Vec<_>>().join(" ");
    let _ = write!(o, "<polyline points=\"{line}\" fill=\"none\" stroke-width=\"2\" class=\"stroke-blue-600 dark:stroke-blue-400\"></polyline>");
    for (t, v) in points {
        let _ = write!(
            o,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3\" class=\"fill-blue-600 dark:fill-blue-400\" data-testid=\"usage-point\"><title>{} UTC: {v} {n}</title></circle>",
            d1(x(*t)),
            d1(y(*v)),
            hhmm(*t)
        );
    }
    let _ = write!(
        o,
        "<text x=\"0\" y=\"118\" class=\"fill-slate-500 text-[10px]\">{}</text><text x=\"480\" y=\"118\" text-anchor=\"end\" class=\"fill-slate-500 text-[10px]\">{} UTC</text></svg>",
        hhmm(from),
        hhmm(now)
    );
    let rows: Vec<Vec<String>> = points.iter().map(|(t, v)| vec![hhmm(*t), v.to_string()]).collect();
    table(&mut o, None, &["Minute (UTC)".to_owned(), "used".to_owned()], &rows);
    o.push_str("</figure>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_escaped() {
        assert_eq!(esc(r#"<b a="1">&'"#), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
        let s = usage_chart("<tokens>", &[(60_000, 5)], None, Some(10), 120_000);
        assert!(s.contains("&lt;tokens&gt;") && !s.contains("<tokens>"));
        assert_eq!(s.matches("data-testid=\"usage-point\"").count(), 1);
        let bars = stacked_bars("t", &["completed".into()], &[(0, vec![2]), (60_000, vec![0])], "x");
        assert_eq!(bars.matches("data-testid=\"chart-bar\"").count(), 2);
        assert!(bars.contains("data-testid=\"x-table\""));
        assert!(sparkline(&[1, 2], "a\"b").contains("aria-label=\"a&quot;b\""));
        assert_eq!((d1(12.34), d1(-0.05), d1(0.0), d1(-3.25)), ("12.3".into(), "-0.1".into(), "0.0".into(), "-3.3".into()));
    }
}
