//! / and /overview: the whole deployment at a glance — executions by
//! state (capped counts), completions per minute by outcome over the last
//! hour, the oldest executions waiting for a decision, expired leases
//! nobody reclaimed, breached budgets. Refreshed by live events. Rendered
//! on the server (`api::rendered`): the browser only swaps its HTML.
use leptos::prelude::*;

use crate::api::rendered::rendered;
use crate::components::feedback::titled;
use crate::components::refresh::use_topic_tick;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let tick = use_topic_tick(10_000, || "all".to_owned());
    let data = crate::api::codec::resource(move || tick.get(), |_| rendered("overview".into()));
    titled("Overview", data, |html| view! { <div inner_html=html></div> })
}

#[cfg(feature = "ssr")]
pub use render::html;

#[cfg(feature = "ssr")]
mod render {
    //! The overview's HTML, from its data.
    use leptos::prelude::*;

    use crate::api::overview::{BreachedBudget, KeyHourView, OverviewView, COUNT_CAP};
    use crate::components::card::{Card, CARD};
    use crate::components::chart::{sparkline, StackedBars};
    use crate::components::feedback::rows_or;
    use crate::components::refresh::now_ms;
    use crate::components::state::StateBadge;
    use crate::components::text::{execution_href, short_id, Id, Time};

    pub fn html(v: OverviewView) -> String {
        body(v).into_view().to_html()
    }

    fn body(v: OverviewView) -> impl IntoView {
        let now = now_ms();
        let buckets = v.minutes.iter().map(|m| (m.at, m.counts.clone())).collect::<Vec<_>>();
        view! {
            <section aria-label="Executions by state" class="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="state-counts">
                {v.counts.into_iter().map(|c| {
                    let label = if c.more { format!("{}+", c.count) } else { c.count.to_string() };
                    view! {
                        <a href=format!("/executions?state={}", c.state.as_str()) class=format!("{CARD} p-3 block hover:border-slate-400") data-testid="state-count" data-state=c.state.as_str()>
                            <div class="text-2xl font-semibold tabular-nums">{label}</div>
                            <StateBadge state=c.state/>
                            {c.last_hour.then(|| view! { <span class="ml-1 text-xs text-slate-500">"last hour"</span> })}
                        </a>
                    }
                }).collect_view()}
            </section>
            <p class="mb-2 text-xs text-slate-500">{format!("Counts stop at {COUNT_CAP} (one page per state: the overview never reads the whole store); failed and cancelled are the last hour's, from the completion stream.")}</p>
            <section aria-label="Stuck now" class=format!("{CARD} mb-4 p-3") data-testid="stuck">
                <h2 class="mb-2 text-sm font-semibold">"Stuck now, by cause"</h2>
                <div class="flex flex-wrap gap-2">
                    {v.stuck.into_iter().map(|s| {
                        let f = s.family.as_str();
                        let label = if s.more { format!("{}+", s.count) } else { s.count.to_string() };
                        let tone = if s.count > 0 { "border-amber-300 bg-amber-50 dark:border-amber-800 dark:bg-amber-950" } else { "border-slate-200 dark:border-slate-800" };
                        view! {
                            <a href=format!("/executions?q=blocked%3A{f}") data-testid="stuck-count" data-family=f class=format!("rounded border px-3 py-1.5 text-sm hover:border-slate-400 {tone}")>
                                <span class="font-semibold tabular-nums">{label}</span>" "{f}
                            </a>
                        }
                    }).collect_view()}
                </div>
            </section>
            <StackedBars title="Completions and retries per minute, last hour" series=v.outcomes.clone() buckets=buckets testid="throughput"/>
            <p class="mt-1 mb-4 text-xs text-slate-500">
                "Counted by this board from the engine's completion and lease streams since "<Time t=v.counting_since now=now/>
                {if v.retries_counted {
                    " (a retry is a new lease on an execution whose earlier lease the board saw)."
                } else {
                    ". Retries: not reported by this backend (its lease events carry no lease id)."
                }}
            </p>
            <div class="mb-4 grid gap-3 2xl:grid-cols-2">
                <KeyTable title="By lane" testid="by-lane" filter="lane" outcomes=v.outcomes.clone() rows=v.lanes/>
                <KeyTable title="By namespace" testid="by-namespace" filter="" outcomes=v.outcomes.clone() rows=v.namespaces/>
            </div>
            <div class="grid gap-3 lg:grid-cols-3">
                <Listed id="ov-waiting" href="/approvals" title="Waiting for a decision" testid="oldest-waiting">
                    {rows_or(v.oldest_waiting, "Nothing is suspended.", move |rows| view! { <ul class="space-y-1 text-sm">{rows.into_iter().map(|w| view! {
                        <li class="flex flex-wrap items-center gap-2"><Id id=w.execution_id.clone() href=execution_href(&w.execution_id)/><span class="text-slate-500">{w.reason}</span><span class="ml-auto text-xs"><Time t=w.since now=now/></span></li>
                    }).collect_view()}</ul> })}
                </Listed>
                <Listed id="ov-expired" href="/leases" title="Expired leases" testid="expired-leases">
                    {rows_or(v.expired_leases, "No lease is past its expiry.", move |rows| view! { <ul class="space-y-1 text-sm">{rows.into_iter().map(|l| view! {
                        <li class="flex flex-wrap items-center gap-2"><Id id=l.execution_id.clone() href=execution_href(&l.execution_id)/><span class="font-mono text-xs text-slate-500">{l.holder}</span><span class="ml-auto text-xs">"expired "<Time t=l.expired_at now=now/></span></li>
                    }).collect_view()}</ul> })}
                    {v.expired_more.then(|| view! { <p class="mt-1 text-xs text-slate-500">"…and more: see Leases."</p> })}
                </Listed>
                <Listed id="ov-budgets" href="/budgets" title="Budgets over a limit" testid="breached-budgets">
                    {rows_or(v.breached, "No budget has been breached.", |rows| view! { <ul class="space-y-1 text-sm">{rows.into_iter().map(breached).collect_view()}</ul> })}
                </Listed>
            </div>
        }
    }

    /// A card of the overview's bottom row: a title linking to the page with
    /// all of it, then what is listed.
    #[component]
    fn Listed(id: &'static str, href: &'static str, title: &'static str, testid: &'static str, children: Children) -> impl IntoView {
        view! {
            <Card class="p-3" attr:data-testid=testid attr:aria-labelledby=id>
                <h2 id=id class="mb-2 font-medium"><a href=href class="hover:underline">{title}</a></h2>
                {children()}
            </Card>
        }
    }

    /// A breached budget: its id, scope, breaches and the burn-down of its
    /// most used dimension.
    fn breached(b: BreachedBudget) -> impl IntoView {
        view! {
            <li class="flex flex-wrap items-center gap-2">
                <a class="font-mono text-xs text-blue-700 hover:underline dark:text-blue-300" href=format!("/budgets/{}", b.budget_id) title=b.budget_id.clone()>{short_id(&b.budget_id)}</a>
                <span class="text-slate-500">{b.scope}</span>
                <span class="ml-auto text-xs">{format!("{} hard, {} soft breaches", b.hard, b.soft)}</span>
                {b.dimension.clone().map(|d| {
                    let last = b.points.last().map_or(0, |p| p.1);
                    let limit = b.limit.map_or_else(|| "no limit".to_owned(), |l| format!("limit {l}"));
                    let label = format!("{d} over the last hour: now {last}, {limit}, {} samples", b.points.len());
                    let line = sparkline(&b.points.iter().map(|p| p.1).collect::<Vec<_>>(), &label);
                    view! { <span class="flex w-full items-center gap-2 text-xs text-slate-500"><span inner_html=line></span>{label}</span> }
                })}
            </li>
        }
    }

    /// Completions and retries of the last hour per lane (or namespace):
    /// totals per outcome and a sparkline of every series per minute. A lane
    /// links to its executions when `filter` names the query parameter.
    #[component]
    fn KeyTable(
        title: &'static str,
        testid: &'static str,
        filter: &'static str,
        outcomes: Vec<String>,
        rows: Vec<KeyHourView>,
    ) -> impl IntoView {
        view! {
            // Focusable: the table may scroll sideways, and keyboards must reach it.
            <Card class="p-3 overflow-x-auto" attr:data-testid=testid attr:aria-label=title attr:tabindex="0">
                <h2 class="mb-2 font-medium">{title}" (last hour)"</h2>
                {rows_or(rows, "Nothing completed or retried since the board started counting.", move |rows| view! {
                    <table class="w-full text-sm">
                        <thead><tr>
                            <th class="text-left">{title.trim_start_matches("By ").to_owned()}</th>
                            {outcomes.iter().map(|o| view! { <th class="px-1 text-right">{o.clone()}</th> }).collect_view()}
                            <th class="text-left">"per minute"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let name = if filter.is_empty() {
                                    view! { <span class="font-mono text-xs">{r.key.clone()}</span> }.into_any()
                                } else {
                                    view! { <a class="font-mono text-xs text-blue-700 underline dark:text-blue-300" href=format!("/executions?{filter}={}", crate::components::text::encode(&r.key))>{r.key.clone()}</a> }.into_any()
                                };
                                let peak = r.per_minute.iter().max().copied().unwrap_or(0);
                                let label = format!("{}: peak {peak} a minute, {} in the last minute", r.key, r.per_minute.last().copied().unwrap_or(0));
                                view! {
                                    <tr data-testid="key-row" data-key=r.key.clone()>
                                        <td>{name}</td>
                                        {r.totals.into_iter().map(|n| view! { <td class="px-1 text-right tabular-nums">{n}</td> }).collect_view()}
                                        <td inner_html=sparkline(&r.per_minute.iter().map(|n| u64::from(*n)).collect::<Vec<_>>(), &label)></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </Card>
        }
    }
}
