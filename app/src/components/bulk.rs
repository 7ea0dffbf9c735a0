//! Bulk actions on everything matching the executions filter: the count
//! is shown before confirming, the work runs in bounded batches with
//! progress, and every failure is listed. Without wasm the same form posts
//! one batch.
use leptos::prelude::*;

use crate::api::actions::{bulk_preview, bulk_step};
use crate::auth::Role;
use crate::components::refresh::now_ms;
use crate::components::text::{execution_href, short_id};

#[derive(Clone, Default)]
struct Progress {
    running: bool,
    done: usize,
    failures: Vec<(String, String)>,
    finished: bool,
    error: Option<String>,
}

#[component]
pub fn BulkPanel(state: Signal<Option<String>>) -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::api::session::get_me());
    let runs = RwSignal::new(0u32);
    let preview = Resource::new(move || (state.get(), runs.get()), |(s, _)| async move {
        match s {
            Some(s) => bulk_preview(s).await.map(Some),
            None => Ok(None),
        }
    });
    let progress = RwSignal::new(Progress::default());
    let reason = RwSignal::new(String::new());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let actor = me.await.ok().and_then(|m| m.actor).filter(|a| a.role.can(Role::Operator));
                let p = match preview.await { Ok(Some(p)) => p, _ => return ().into_any() };
                let Some(actor) = actor else {
                    return view! { <p data-testid="action-disabled" class="text-sm text-slate-500">{format!("{} match. Operators can act on all of them.", p.count)}</p> }.into_any();
                };
                let key = format!("bulk:{}:{}:{}", p.state, p.count, now_ms() / 60_000);
                let verb = if p.action == "replay" { "Replay" } else { "Cancel" };
                let summary = format!("{verb} {} execution(s) in state {}{}", p.count, p.state, if p.capped { " (the first 1000)" } else { "" });
                let (st, csrf, key2) = (p.state.clone(), actor.csrf.clone(), key.clone());
                let run = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let (st, csrf, key) = (st.clone(), csrf.clone(), key2.clone());
                    progress.set(Progress { running: true, ..Default::default() });
                    leptos::task::spawn_local(async move {
                        let mut cursor = None;
                        loop {
                            match bulk_step(st.clone(), cursor, reason.get_untracked(), key.clone(), csrf.clone()).await {
                                Ok(step) => {
                                    progress.update(|p| { p.done += step.done; p.failures.extend(step.failures); });
                                    cursor = step.next_cursor;
                                    if cursor.is_none() || progress.get_untracked().done >= crate::api::actions::BULK_MAX { break; }
                                }
                                Err(e) => { progress.update(|p| p.error = Some(e.to_string())); break; }
                            }
                        }
                        progress.update(|p| { p.running = false; p.finished = true; });
                        runs.update(|r| *r += 1);
                    });
                };
                view! {
                    <details data-testid="bulk-open" class="mb-3">
                        <summary class="inline-block cursor-pointer list-none rounded bg-red-600 px-3 py-1.5 text-sm font-medium text-white">{format!("{verb} all {} matching…", p.count)}</summary>
                        <form method="post" action="/api/bulk_step" on:submit=run role="dialog" data-testid="confirm-dialog"
                            class="mt-2 w-[28rem] space-y-2 rounded-lg border border-slate-300 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-900">
                            <p data-testid="bulk-count" class="text-sm font-medium">{summary}</p>
                            <p class="text-xs text-slate-500">{format!("Runs in batches of {}; each execution gets its own audit entry.", crate::api::actions::BULK_BATCH)}</p>
                            <input type="hidden" name="state" value=p.state.clone()/>
                            <input type="hidden" name="csrf" value=actor.csrf.clone()/>
                            <input type="hidden" name="idempotency_key" value=key/>
                            <label class="block text-xs text-slate-500">"Reason (recorded in the audit log)"
                                <input name="reason" required maxlength="500" on:input=move |e| reason.set(event_target_value(&e))
                                    class="w-full rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
                            </label>
                            <button type="submit" data-testid="bulk-confirm" class="rounded bg-red-600 px-3 py-1.5 text-sm font-medium text-white">{verb}" all"</button>
                        </form>
                    </details>
                }.into_any()
            })}
        </Suspense>
        {move || {
            let p = progress.get();
            (p.running || p.finished).then(|| view! {
                <div data-testid="bulk-progress" class="mb-3 rounded border border-slate-200 p-3 text-sm dark:border-slate-800">
                    <p>{if p.running { "Working… " } else { "Finished: " }}{format!("{} done, {} failed", p.done, p.failures.len())}</p>
                    {p.error.map(|e| view! { <p class="text-red-700">{e}</p> })}
                    <ul class="mt-1 max-h-40 overflow-auto text-xs text-red-700">
                        {p.failures.into_iter().map(|(id, e)| view! { <li><a class="font-mono" href=execution_href(&id)>{short_id(&id)}</a>": "{e}</li> }).collect_view()}
                    </ul>
                </div>
            })
        }}
    }
}
