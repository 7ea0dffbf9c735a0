//! /executions/{execution_id}: state vector, lane, priority, attempts,
//! lease holder and expiry, tags, result (size-capped), stream frames and
//! summary.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::executions::{get_execution, RESULT_CAP};
use crate::components::actions::ExecutionActions;
use crate::components::audit::AuditTrail;
use crate::components::feedback::{field_view, ErrorPanel, Loading};
use crate::components::refresh::{now_ms, use_topic_tick};
use crate::components::state::StateBadge;
use crate::components::text::{decode, flow_href, short_id, Id, StoredValue, Time};

#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || decode(&params.get().get("execution_id").unwrap_or_default());
    let tick = use_topic_tick(10_000, move || format!("execution:{}", id()));
    let data = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| get_execution(id));
    let section = "mt-6 mb-2 text-lg font-semibold";
    let id_signal = Signal::derive(id);
    view! {
        // Actions first: on a suspended execution the gate and its decision
        // are what the operator came for.
        <ExecutionActions id=id_signal/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let now = now_ms();
                match data.await {
                    Err(e) => view! { <Title text="Execution"/><ErrorPanel error=e/> }.into_any(),
                    Ok(d) => {
                        let r = d.row.clone();
                        view! {
                            <Title text=format!("Execution {}", short_id(&r.execution_id))/>
                            <h1 class="flex items-center gap-3 text-2xl font-semibold">
                                "Execution "<Id id=r.execution_id.clone()/><StateBadge state=r.state.clone()/>
                            </h1>
                            <dl class="mt-3 grid grid-cols-2 gap-x-6 gap-y-2 text-sm sm:grid-cols-4" data-testid="execution-facts">
                                <div><dt class="text-xs text-slate-500">"Flow"</dt><dd>{r.flow_id.clone().map(|f| view! { <Id id=f.clone() href=flow_href(&f)/> })}</dd></div>
                                <div><dt class="text-xs text-slate-500">"Lane"</dt><dd>{r.lane.clone()}</dd></div>
                                <div><dt class="text-xs text-slate-500">"Namespace"</dt><dd>{r.namespace.clone()}</dd></div>
                                <div><dt class="text-xs text-slate-500">"Attempts"</dt><dd class="tabular-nums" data-testid="attempts">{r.attempts}{d.current_attempt.map(|a| format!(" (current #{a})"))}</dd></div>
                                <div><dt class="text-xs text-slate-500">"Created"</dt><dd><Time t=r.created_at now=now/></dd></div>
                                <div><dt class="text-xs text-slate-500">"Last change"</dt><dd><Time t=r.last_mutation_at now=now/></dd></div>
                                <div><dt class="text-xs text-slate-500">"Blocking"</dt><dd title=d.blocking_reason.as_ref().map(|b| b.as_str().to_owned())>{d.blocking_reason.as_ref().map_or_else(|| "—".to_owned(), |b| b.words().to_owned())}" "<span class="text-xs text-slate-500">{d.blocking_detail.clone()}</span></dd></div>
                                <div><dt class="text-xs text-slate-500">"Waitpoint"</dt><dd>{d.waitpoint.clone().map(|w| view! { <Id id=w/> })}</dd></div>
                            </dl>
                            <h2 class=section>"Lease"</h2>
                            {match d.lease.clone() {
                                None => view! { <p class="text-sm text-slate-500">"No lease held."</p> }.into_any(),
                                Some(l) => view! {
                                    <dl class="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4" data-testid="lease">
                                        <div><dt class="text-xs text-slate-500">"Holder"</dt><dd class="font-mono text-xs">{l.holder}</dd></div>
                                        <div><dt class="text-xs text-slate-500">"Expires"</dt><dd><Time t=l.expires_at now=now/></dd></div>
                                        <div><dt class="text-xs text-slate-500">"Epoch / attempt"</dt><dd class="tabular-nums">{format!("{} / {}", l.epoch, l.attempt_index)}</dd></div>
                                        <div><dt class="text-xs text-slate-500">"Last heartbeat"</dt><dd>{l.last_heartbeat_at.map(|t| view! { <Time t=t now=now/> })}</dd></div>
                                    </dl>
                                }.into_any(),
                            }}
                            <h2 class=section>"State vector"</h2>
                            {field_view(&d.info, |kv| view! {
                                <dl class="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4" data-testid="state-vector">
                                    {kv.into_iter().map(|(k, v)| view! { <div><dt class="text-xs text-slate-500">{k.clone()}</dt><dd><StoredValue key=k value=v now=now/></dd></div> }).collect_view()}
                                </dl>
                            })}
                            <h2 class=section>"Tags"</h2>
                            {if d.tags.is_empty() {
                                view! { <p class="text-sm text-slate-500">"No tags."</p> }.into_any()
                            } else {
                                view! { <ul class="flex flex-wrap gap-2 text-xs">{d.tags.iter().map(|(k, v)| view! { <li class="rounded bg-slate-100 px-2 py-0.5 font-mono dark:bg-slate-800">{format!("{k}={v}")}</li> }).collect_view()}</ul> }.into_any()
                            }}
                            <h2 class=section>"Result"</h2>
                            {field_view(&d.result, |res| match res {
                                None => view! { <p class="text-sm text-slate-500">"No result."</p> }.into_any(),
                                Some((text, len)) => view! {
                                    <pre class="max-h-64 overflow-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-900" data-testid="result">{text}</pre>
                                    {(len > RESULT_CAP).then(|| view! { <p class="text-xs text-slate-500">{format!("showing {RESULT_CAP} of {len} bytes")}</p> })}
                                }.into_any(),
                            })}
                            <h2 class=section>"Stream"</h2>
                            {field_view(&d.frames, |frames| if frames.is_empty() {
                                view! { <p class="text-sm text-slate-500">"No frames on the current attempt."</p> }.into_any()
                            } else {
                                view! {
                                    <ol class="max-h-80 space-y-1 overflow-auto rounded bg-slate-100 p-3 font-mono text-xs dark:bg-slate-900" data-testid="frames">
                                        {frames.into_iter().map(|f| view! {
                                            <li><span class="text-slate-500">{f.id}" "</span>{f.fields.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")}</li>
                                        }).collect_view()}
                                    </ol>
                                }.into_any()
                            })}
                            <h2 class=section>"Summary"</h2>
                            {field_view(&d.summary, |s| match s {
                                None => view! { <p class="text-sm text-slate-500">"No summary document."</p> }.into_any(),
                                Some(doc) => view! { <pre class="overflow-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-900">{doc}</pre> }.into_any(),
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <AuditTrail target=id_signal/>
    }
}
