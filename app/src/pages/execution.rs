//! /executions/{execution_id}: why it is not moving (the diagnosis,
//! rendered on the server: `api::diagnosis`), its actions, state vector,
//! lane, priority, attempts, lease holder and expiry, tags, result
//! (size-capped), summary and stream frames (followed live on request:
//! `components::tail`).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::executions::{get_execution, ExecutionDetail, LeaseView, RESULT_CAP};
use crate::components::actions::ExecutionActions;
use crate::components::audit::AuditTrail;
use crate::components::card::Fact;
use crate::components::feedback::{field_view, loaded, rows_or, Nothing};
use crate::components::refresh::{now_ms, use_topic_tick};
use crate::components::state::StateBadge;
use crate::components::tail::StreamTail;
use crate::components::text::{decode, flow_href, short_id, Id, StoredValue, Time};

#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || decode(&params.get().get("execution_id").unwrap_or_default());
    let tick = use_topic_tick(10_000, move || format!("execution:{}", id()));
    let data = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| get_execution(id));
    let id_signal = Signal::derive(id);
    let diagnosis = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| crate::api::rendered::rendered(format!("diagnosis:{id}")));
    let timeline = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| crate::api::rendered::rendered(format!("timeline:{id}")));
    view! {
        // Why first, then the actions that fix it: on a suspended execution
        // the gate and its decision are what the operator came for.
        {loaded(diagnosis, None, |html| view! { <div inner_html=html></div> })}
        <ExecutionActions id=id_signal/>
        {loaded(data, Some("Execution"), move |d| view! {
            <Title text=format!("Execution {}", short_id(&d.row.execution_id))/>
            <Facts d=d.clone()/>
            {loaded(timeline, None, |html| view! { <div class="mt-4" inner_html=html></div> })}
            <h2 class=SECTION>"Lease"</h2>
            {match d.lease {
                None => view! { <Nothing text="No lease held."/> }.into_any(),
                Some(l) => view! { <Lease l=l/> }.into_any(),
            }}
            <h2 class=SECTION>"State vector"</h2>
            {field_view(&d.info, |kv| {
                let now = now_ms();
                view! {
                    <dl class="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4" data-testid="state-vector">
                        {kv.into_iter().map(|(k, v)| view! { <div><dt class="text-xs text-slate-500">{k.clone()}</dt><dd><StoredValue key=k value=v now=now/></dd></div> }).collect_view()}
                    </dl>
                }
            })}
            <h2 class=SECTION>"Tags"</h2>
            {rows_or(d.tags, "No tags.", |tags| view! {
                <ul class="flex flex-wrap gap-2 text-xs">{tags.into_iter().map(|(k, v)| view! { <li class="rounded bg-slate-100 px-2 py-0.5 font-mono dark:bg-slate-800">{format!("{k}={v}")}</li> }).collect_view()}</ul>
            })}
            <h2 class=SECTION>"Result"</h2>
            {field_view(&d.result, |res| match res {
                None => view! { <Nothing text="No result."/> }.into_any(),
                Some((text, len)) => view! {
                    <pre class="max-h-64 overflow-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-900" data-testid="result">{text}</pre>
                    {(len > RESULT_CAP).then(|| view! { <p class="text-xs text-slate-500">{format!("showing {RESULT_CAP} of {len} bytes")}</p> })}
                }.into_any(),
            })}
            <h2 class=SECTION>"Summary"</h2>
            {field_view(&d.summary, |s| match s {
                None => view! { <Nothing text="No summary document."/> }.into_any(),
                Some(doc) => view! { <pre class="overflow-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-900">{doc}</pre> }.into_any(),
            })}
            <h2 class=SECTION>"Stream"</h2>
            {field_view(&d.frames, |frames| rows_or(frames, "No frames on the current attempt yet.", |frames| view! {
                <ol class="max-h-80 space-y-1 overflow-auto rounded bg-slate-100 p-3 font-mono text-xs dark:bg-slate-900" data-testid="frames">
                    {frames.into_iter().map(|f| view! {
                        <li><span class="text-slate-500">{f.id}" "</span>{f.fields.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")}</li>
                    }).collect_view()}
                </ol>
            }))}
        })}
        // Outside the refreshed block: following survives each refresh.
        <StreamTail execution_id=id_signal/>
        <AuditTrail target=id_signal/>
    }
}

/// The classes of a section title.
const SECTION: &str = "mt-6 mb-2 text-lg font-semibold";

/// The execution's id and state, and where and how it runs.
#[component]
fn Facts(d: ExecutionDetail) -> impl IntoView {
    let now = now_ms();
    let r = d.row;
    view! {
        <h1 class="flex items-center gap-3 text-2xl font-semibold">
            "Execution "<Id id=r.execution_id.clone()/><StateBadge state=r.state/>
        </h1>
        <dl class="mt-3 grid grid-cols-2 gap-x-6 gap-y-2 text-sm sm:grid-cols-4" data-testid="execution-facts">
            <Fact label="Flow">{r.flow_id.clone().map(|f| view! { <Id id=f.clone() href=flow_href(&f)/> })}</Fact>
            <Fact label="Lane">{r.lane.clone()}</Fact>
            <Fact label="Namespace">{r.namespace.clone()}</Fact>
            <Fact label="Attempts" class="tabular-nums" testid="attempts">{r.attempts}{d.current_attempt.map(|a| format!(" (current #{a})"))}</Fact>
            <Fact label="Created"><Time t=r.created_at now=now/></Fact>
            <Fact label="Last change"><Time t=r.last_mutation_at now=now/></Fact>
            <div><dt class="text-xs text-slate-500">"Blocking"</dt><dd title=d.blocking_reason.as_ref().map(|b| b.as_str().to_owned())>{d.blocking_reason.as_ref().map_or_else(|| "—".to_owned(), |b| b.words().to_owned())}" "<span class="text-xs text-slate-500">{d.blocking_detail.clone()}</span></dd></div>
            <Fact label="Waitpoint">{d.waitpoint.clone().map(|w| view! { <Id id=w/> })}</Fact>
        </dl>
    }
}

/// Who holds the execution, until when.
#[component]
fn Lease(l: LeaseView) -> impl IntoView {
    let now = now_ms();
    view! {
        <dl class="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4" data-testid="lease">
            <Fact label="Holder" class="font-mono text-xs">{l.holder}</Fact>
            <Fact label="Expires"><Time t=l.expires_at now=now/></Fact>
            <Fact label="Epoch / attempt" class="tabular-nums">{format!("{} / {}", l.epoch, l.attempt_index)}</Fact>
            <Fact label="Last heartbeat">{l.last_heartbeat_at.map(|t| view! { <Time t=t now=now/> })}</Fact>
        </dl>
    }
}
