//! Bulk actions on what matches the executions filter, on request: the preview lists
//! the executions (at most 1,000) and their count is confirmed; the run
//! sends exactly those back in bounded batches with progress, and every
//! failure (including one that left the state since) is listed. Without
//! wasm the same form posts the first batch.
use leptos::prelude::*;

use crate::api::bulk::{bulk_preview, bulk_step, BulkCount};
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

/// `open` says the operator asked for a bulk action (`bulk=1` in the URL,
/// reached by the link this panel shows, so it works without wasm too):
/// only then is the preview read, so viewing a filtered list never costs
/// the store a bulk preview.
#[component]
pub fn BulkPanel(state: Signal<Option<String>>, q: Signal<String>, open: Signal<bool>, open_href: Signal<String>) -> impl IntoView {
    let me = crate::api::codec::resource(|| (), |_| crate::api::session::get_me());
    let runs = RwSignal::new(0u32);
    // Refetched only when the filter really changes or after a run: an
    // open dialog is never rebuilt under the operator.
    let state = Memo::new(move |_| state.get());
    let q = Memo::new(move |_| q.get());
    let open = Memo::new(move |_| open.get());
    let preview = crate::api::codec::resource(move || (state.get(), q.get(), open.get(), runs.get()), |(s, q, open, _)| async move {
        match s {
            Some(s) if open => bulk_preview(s, (!q.is_empty()).then_some(q)).await.map(Some),
            _ => Ok(None),
        }
    });
    let progress = RwSignal::new(Progress::default());
    let reason = RwSignal::new(String::new());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let actor = me.await.ok().and_then(|m| m.actor).filter(|a| a.role.can(Role::Operator));
                // Awaited first (it is `None` at once while closed) so this
                // re-renders when the operator opens the panel.
                let preview = preview.await;
                if !open.get_untracked() {
                    return match (state.get_untracked(), actor) {
                        (Some(st), Some(_)) => view! {
                            <a data-testid="bulk-start" href=open_href.get_untracked() class="mb-3 inline-block rounded border border-red-300 px-3 py-1.5 text-sm text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300">{if q.get_untracked().is_empty() { format!("Bulk action on every {st} execution…") } else { format!("Bulk action on every {st} execution of this query…") }}</a>
                        }.into_any(),
                        _ => ().into_any(),
                    };
                }
                let p = match preview {
                    Ok(Some(p)) if p.count > 0 => p,
                    Ok(_) => return view! { <p data-testid="bulk-none" class="mb-3 text-sm text-slate-500">"Nothing matches: no bulk action to take."</p> }.into_any(),
                    Err(e) => return view! { <p data-testid="bulk-error" class="mb-3 text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                };
                let Some(actor) = actor else {
                    return view! { <p data-testid="action-disabled" class="text-sm text-slate-500">{format!("{} match. Operators can act on them.", p.count)}</p> }.into_any();
                };
                let verb = p.action.verb();
                let label = if p.more { format!("{verb} the first {} matching…", p.count) } else { format!("{verb} all {} matching…", p.count) };
                view! {
                    <details data-testid="bulk-open" class="mb-3" open>
                        <summary class="inline-block cursor-pointer list-none rounded bg-red-600 px-3 py-1.5 text-sm font-medium text-white">{label}</summary>
                        <BulkForm p=p csrf=actor.csrf.clone() progress=progress reason=reason runs=runs/>
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

/// The confirmation of one preview: its count, a reason, and the run over
/// exactly its executions.
#[component]
fn BulkForm(p: BulkCount, csrf: String, progress: RwSignal<Progress>, reason: RwSignal<String>, runs: RwSignal<u32>) -> impl IntoView {
    let key = format!("bulk:{}:{}:{}", p.state, p.count, now_ms() / 60_000);
    let verb = p.action.verb();
    let summary = if p.more {
        format!("{verb} {} execution(s) in state {}: the first {} listed (more may match; only these are touched)", p.count, p.state, p.count)
    } else {
        format!("{verb} {} execution(s) in state {}", p.count, p.state)
    };
    // Over the two-person threshold the form asks instead (a plain post:
    // the request then waits on /repair for a different admin).
    let ask = p.count > p.approval_over;
    let first: Vec<String> = if ask { vec![] } else { p.ids.iter().take(crate::api::bulk::BULK_BATCH).cloned().collect() };
    let (st, csrf2, key2, ids) = (p.state.clone(), csrf.clone(), key.clone(), p.ids.clone());
    let run = move |ev: leptos::ev::SubmitEvent| {
        if ask {
            return;
        }
        ev.prevent_default();
        let (st, csrf, key, ids) = (st.clone(), csrf2.clone(), key2.clone(), ids.clone());
        progress.set(Progress { running: true, ..Default::default() });
        leptos::task::spawn_local(async move {
            // Exactly the previewed executions, one bounded batch at a time.
            for batch in ids.chunks(crate::api::bulk::BULK_BATCH) {
                match bulk_step(st.clone(), batch.to_vec(), reason.get_untracked(), key.clone(), csrf.clone()).await {
                    Ok(step) => progress.update(|p| { p.done += step.done; p.failures.extend(step.failures); }),
                    Err(e) => { progress.update(|p| p.error = Some(e.to_string())); break; }
                }
            }
            progress.update(|p| { p.running = false; p.finished = true; });
            runs.update(|r| *r += 1);
        });
    };
    view! {
        <form method="post" action=if ask { "/api/repair_request" } else { "/api/bulk_step" } on:submit=run role="dialog" data-testid="confirm-dialog"
            class="mt-2 w-[28rem] space-y-2 rounded-lg border border-slate-300 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-900">
            <p data-testid="bulk-count" class="text-sm font-medium">{summary}</p>
            <p class="text-xs text-slate-500">{format!("Runs in batches of {}; each execution gets its own audit entry; one that left the state since is left alone.", crate::api::bulk::BULK_BATCH)}</p>
            {ask.then(|| view! {
                <p data-testid="bulk-two-person" class="text-xs text-amber-700">{format!("More than {} executions: a different admin approves it on /repair before it runs (two-person rule).", p.approval_over)}</p>
                <input type="hidden" name="tool" value="bulk"/>
                <input type="hidden" name="q" value=p.q.clone()/>
            })}
            <input type="hidden" name="state" value=p.state.clone()/>
            // Without wasm the form posts the first batch.
            {first.into_iter().enumerate().map(|(i, id)| view! { <input type="hidden" name=format!("ids[{i}]") value=id/> }).collect_view()}
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="idempotency_key" value=key/>
            <label class="block text-xs text-slate-500">"Reason (recorded in the audit log)"
                <input name="reason" required maxlength="500" on:input=move |e| reason.set(event_target_value(&e))
                    class="w-full rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
            </label>
            <button type="submit" data-testid=if ask { "bulk-ask" } else { "bulk-confirm" } class="rounded bg-red-600 px-3 py-1.5 text-sm font-medium text-white">{if ask { "Ask for approval".to_owned() } else { format!("{verb} all") }}</button>
        </form>
    }
}
