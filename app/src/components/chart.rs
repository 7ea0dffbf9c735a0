//! Charts drawn on the server as SVG (no charting library in the bundle):
//! a stacked bar per minute, a `<title>` on every bar for the values on
//! hover, a legend that names each series (never colour alone), and the
//! same numbers as a table behind a disclosure for screen readers.
use leptos::prelude::*;

use crate::components::text::iso;

/// Fill and legend swatch per series, by name.
fn colour(series: &str) -> &'static str {
    match series {
        "completed" => "fill-green-600 dark:fill-green-500",
        "failed" => "fill-red-600 dark:fill-red-500",
        "cancelled" => "fill-slate-400 dark:fill-slate-500",
        "expired" => "fill-orange-500 dark:fill-orange-400",
        _ => "fill-violet-500 dark:fill-violet-400",
    }
}

/// Stacked bars, one per bucket: `buckets` are `(start ms, count per series)`.
#[component]
pub fn StackedBars(
    #[prop(into)] title: String,
    series: Vec<String>,
    buckets: Vec<(i64, Vec<u32>)>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    const W: f64 = 720.0;
    const H: f64 = 160.0;
    const PAD: f64 = 24.0;
    let max = buckets.iter().map(|(_, c)| c.iter().sum::<u32>()).max().unwrap_or(0).max(1);
    let bar = W / buckets.len().max(1) as f64;
    let scale = (H - PAD) / f64::from(max);
    let hhmm = |t: i64| iso(t)[11..16].to_owned();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, (at, counts))| {
            let x = i as f64 * bar;
            let mut y = H - PAD;
            let label = format!(
                "{} UTC: {}",
                hhmm(*at),
                series.iter().zip(counts).map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
            );
            let rects = series
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| {
                    let h = f64::from(*n) * scale;
                    y -= h;
                    view! { <rect x=format!("{:.1}", x + 1.0) y=format!("{y:.1}") width=format!("{:.1}", (bar - 2.0).max(1.0)) height=format!("{h:.1}") class=colour(s)/> }
                })
                .collect_view();
            view! {
                <g data-testid="chart-bar">
                    <title>{label}</title>
                    // The whole column answers hover, not only its filled part.
                    <rect x=format!("{x:.1}") y="0" width=format!("{bar:.1}") height=format!("{:.1}", H - PAD) class="fill-transparent hover:fill-slate-200/40 dark:hover:fill-slate-700/40"/>
                    {rects}
                </g>
            }
        })
        .collect_view();
    let first = buckets.first().map(|(t, _)| hhmm(*t)).unwrap_or_default();
    let last = buckets.last().map(|(t, _)| hhmm(*t)).unwrap_or_default();
    let aria = format!("{title}, {first} to {last} UTC");
    let totals: Vec<u32> = (0..series.len()).map(|i| buckets.iter().map(|(_, c)| c.get(i).copied().unwrap_or(0)).sum()).collect();
    let table_rows = buckets.iter().filter(|(_, c)| c.iter().any(|n| *n > 0)).cloned().collect::<Vec<_>>();
    view! {
        <figure data-testid=testid class="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
            <figcaption class="mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1 text-sm">
                <span class="font-medium">{title.clone()}</span>
                {series.iter().zip(totals).map(|(s, n)| view! {
                    <span class="inline-flex items-center gap-1 text-xs">
                        <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" class=colour(s)/></svg>
                        {format!("{s} {n}")}
                    </span>
                }).collect_view()}
                <span class="text-xs text-slate-500">{format!("peak {max}/min")}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") class="h-auto w-full" role="img" aria-label=aria>
                <line x1="0" x2=W.to_string() y1=format!("{}", H - PAD) y2=format!("{}", H - PAD) class="stroke-slate-300 dark:stroke-slate-700"/>
                {bars}
                <text x="0" y=format!("{}", H - 6.0) class="fill-slate-500 text-[10px]">{first}</text>
                <text x=W.to_string() y=format!("{}", H - 6.0) text-anchor="end" class="fill-slate-500 text-[10px]">{last}" UTC"</text>
            </svg>
            <details class="mt-2 text-xs">
                <summary class="cursor-pointer text-slate-500">"Show as a table"</summary>
                <table class="mt-1" data-testid=format!("{testid}-table")>
                    <thead><tr><th class="text-left">"Minute (UTC)"</th>{series.iter().map(|s| view! { <th class="text-right">{s.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {table_rows.into_iter().map(|(at, counts)| view! {
                            <tr><td>{hhmm(at)}</td>{counts.into_iter().map(|n| view! { <td class="text-right tabular-nums">{n}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
