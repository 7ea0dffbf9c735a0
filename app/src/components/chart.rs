//! Charts drawn on the server as SVG (no charting library in the bundle):
//! a stacked bar per minute, a `<title>` on every bar for the values on
//! hover, a legend that names each series (never colour alone), and the
//! same numbers as a table behind a disclosure for screen readers. Also a
//! sparkline for table cells and a usage line against its limits.
use leptos::prelude::*;

use crate::components::text::iso;

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

/// A small line of per-minute values for a table cell; the label says the
/// figures (peak, last) in words.
#[component]
pub fn Sparkline(values: Vec<u64>, #[prop(into)] label: String) -> impl IntoView {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = W / (values.len().max(2) - 1) as f64;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, H - 1.0 - (*v as f64 / max) * (H - 2.0)))
        .collect::<Vec<_>>()
        .join(" ");
    let aria = label.clone();
    view! {
        <svg viewBox=format!("0 0 {W} {H}") width="120" height="24" role="img" aria-label=aria data-testid="sparkline">
            <title>{label}</title>
            <polyline points=points fill="none" stroke-width="1.5" class="stroke-blue-600 dark:stroke-blue-400"/>
        </svg>
    }
}

/// Usage of one budget dimension over the last hour up to `now`, one point
/// a minute, against its soft and hard limits (dashed, named).
#[component]
pub fn UsageChart(
    #[prop(into)] name: String,
    points: Vec<(i64, u64)>,
    soft: Option<u64>,
    hard: Option<u64>,
    now: i64,
) -> impl IntoView {
    const W: f64 = 480.0;
    const H: f64 = 120.0;
    const PAD: f64 = 16.0;
    let top = points.iter().map(|(_, v)| *v).chain(soft).chain(hard).max().unwrap_or(0).max(1) as f64 * 1.1;
    let from = now - 3_600_000;
    let x = move |t: i64| ((t - from).clamp(0, 3_600_000) as f64 / 3_600_000.0) * W;
    let y = move |v: u64| H - PAD - (v as f64 / top) * (H - 2.0 * PAD);
    let hhmm = |t: i64| iso(t)[11..16].to_owned();
    let line = points.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect::<Vec<_>>().join(" ");
    let limit = move |v: Option<u64>, label: &'static str, class: &'static str| {
        v.map(|v| {
            view! {
                <line x1="0" x2=W.to_string() y1=format!("{:.1}", y(v)) y2=format!("{:.1}", y(v)) stroke-dasharray="4 3" class=class/>
                <text x=W.to_string() y=format!("{:.1}", y(v) - 2.0) text-anchor="end" class="fill-slate-500 text-[10px]">{format!("{label} {v}")}</text>
            }
        })
    };
    let aria = format!("{name} used over the last hour, {} samples", points.len());
    let rows = points.clone();
    view! {
        <figure data-testid="usage-chart" data-dimension=name.clone() class="mt-3">
            <figcaption class="text-xs text-slate-500">{format!("{name}: usage over the last hour (sampled by the board once a minute)")}</figcaption>
            {if points.is_empty() {
                view! { <p class="text-xs text-slate-500" data-testid="usage-empty">"No sample yet: the board samples usage once a minute."</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {W} {H}") class="h-auto w-full" role="img" aria-label=aria>
                        <line x1="0" x2=W.to_string() y1=format!("{}", H - PAD) y2=format!("{}", H - PAD) class="stroke-slate-300 dark:stroke-slate-700"/>
                        {limit(soft, "soft", "stroke-amber-500")}
                        {limit(hard, "hard", "stroke-red-600 dark:stroke-red-500")}
                        <polyline points=line fill="none" stroke-width="2" class="stroke-blue-600 dark:stroke-blue-400"/>
                        {points.iter().map(|(t, v)| view! {
                            <circle cx=format!("{:.1}", x(*t)) cy=format!("{:.1}", y(*v)) r="3" class="fill-blue-600 dark:fill-blue-400" data-testid="usage-point">
                                <title>{format!("{} UTC: {v} {name}", hhmm(*t))}</title>
                            </circle>
                        }).collect_view()}
                        <text x="0" y=format!("{}", H - 2.0) class="fill-slate-500 text-[10px]">{hhmm(from)}</text>
                        <text x=W.to_string() y=format!("{}", H - 2.0) text-anchor="end" class="fill-slate-500 text-[10px]">{hhmm(now)}" UTC"</text>
                    </svg>
                    <details class="text-xs">
                        <summary class="cursor-pointer text-slate-500">"Show as a table"</summary>
                        <table class="mt-1"><thead><tr><th class="text-left">"Minute (UTC)"</th><th class="text-right">"used"</th></tr></thead>
                            <tbody>{rows.into_iter().map(|(t, v)| view! { <tr><td>{hhmm(t)}</td><td class="text-right tabular-nums">{v}</td></tr> }).collect_view()}</tbody>
                        </table>
                    </details>
                }.into_any()
            }}
        </figure>
    }
}
