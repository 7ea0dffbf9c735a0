//! Saved views in the page frame: the sidebar's list (each a link with its
//! capped count, `data-testid="saved-view"`, and a delete button where the
//! user may delete it) and the "Save view" form the lists show. Both share
//! one [`ViewsCtx`], provided by the layout, so a save or a delete
//! refreshes the sidebar at once; otherwise it refreshes every 30 s.
use leptos::prelude::*;

use crate::api::views::{list_views, DeleteView, SaveView, Views};
use crate::components::form::{delete_view, save_view, PostForm};
use crate::components::refresh::use_tick;
use crate::error::AppError;

/// The views of the signed-in user and the actions that change them.
#[derive(Clone, Copy)]
pub struct ViewsCtx {
    pub save: ServerAction<SaveView>,
    pub delete: ServerAction<DeleteView>,
    pub views: Resource<Result<Views, AppError>, crate::api::codec::Postcard>,
}

/// Create the views' context (once, in the layout).
pub fn provide_views() -> ViewsCtx {
    let save = ServerAction::<SaveView>::new();
    let delete = ServerAction::<DeleteView>::new();
    let tick = use_tick(30_000);
    let views = crate::api::codec::resource(move || (tick.get(), save.version().get(), delete.version().get()), |_| list_views());
    let ctx = ViewsCtx { save, delete, views };
    provide_context(ctx);
    ctx
}

/// The sidebar's list of saved views.
#[component]
pub fn SavedViews() -> impl IntoView {
    let ctx = expect_context::<ViewsCtx>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let v = ctx.views.await.unwrap_or_default();
                let csrf = v.csrf.clone().unwrap_or_default();
                view! {
                    <div class="mt-6 hidden peer-checked:block md:block" data-testid="saved-views">
                        <h2 class="px-2 text-xs font-semibold uppercase text-slate-500">"Saved views"</h2>
                        {v.views.is_empty().then(|| view! { <p class="px-2 py-1 text-xs text-slate-500">"None yet: save a query from Executions or Flows."</p> })}
                        <ul class="mt-1 space-y-0.5">
                            {v.views.into_iter().map(|l| {
                                let count = l.count.map(|n| if l.more { format!("{n}+") } else { n.to_string() });
                                let csrf = csrf.clone();
                                view! {
                                    <li class="flex items-center gap-1">
                                        <a href=l.href data-testid="saved-view" data-view-name=l.name.clone()
                                            class="min-w-0 flex-1 truncate rounded px-2 py-1 text-sm text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">
                                            {l.name.clone()}{l.shared.then_some(" ·shared")}
                                        </a>
                                        {count.map(|c| view! { <span data-testid="view-count" class="text-xs tabular-nums text-slate-500">{c}</span> })}
                                        {l.deletable.then(|| view! {
                                            <PostForm act=ctx.delete read=delete_view>
                                                <input type="hidden" name="name" value=l.name.clone()/>
                                                {l.shared.then(|| view! { <input type="hidden" name="shared" value="1"/> })}
                                                <input type="hidden" name="csrf" value=csrf/>
                                                <button type="submit" data-testid="view-delete" class="px-1 text-xs text-slate-400 hover:text-red-700" title="delete this view" aria-label=format!("delete view {}", l.name)>"×"</button>
                                            </PostForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                }
            })}
        </Transition>
    }
}

/// "Save view": the list's current query and columns under a name.
#[component]
pub fn SaveViewForm(list: &'static str, q: Signal<String>, cols: Signal<String>) -> impl IntoView {
    let ctx = expect_context::<ViewsCtx>();
    let input = "rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let v = ctx.views.await.unwrap_or_default();
                v.csrf.clone().map(|csrf| view! {
                    <details class="mb-2 text-sm" data-testid="save-view">
                        <summary class="cursor-pointer text-xs text-slate-500">"Save this query as a view"</summary>
                        <PostForm act=ctx.save read=save_view>
                            <div class="mt-2 flex flex-wrap items-end gap-2">
                                <input type="hidden" name="list" value=list/>
                                <input type="hidden" name="query" value=q/>
                                <input type="hidden" name="csrf" value=csrf/>
                                <label class="flex flex-col text-xs text-slate-500">"Name"
                                    <input name="name" required maxlength="64" data-testid="view-name" class=input/>
                                </label>
                                <label class="flex flex-col text-xs text-slate-500">"Columns (blank for all)"
                                    <input name="columns" value=cols maxlength="512" data-testid="view-columns" class=format!("w-64 {input}")/>
                                </label>
                                {v.can_share.then(|| view! {
                                    <label class="flex items-center gap-1 text-xs text-slate-500"><input type="checkbox" name="shared" value="1" data-testid="view-shared"/>"shared with every reader"</label>
                                })}
                                <button type="submit" data-testid="view-save" class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Save view"</button>
                            </div>
                        </PostForm>
                        {move || ctx.save.value().get().map(|r| match r {
                            Ok(href) => view! { <p class="mt-1 text-xs text-green-700 dark:text-green-400" data-testid="view-saved">"Saved. "<a class="underline" href=href>"Open it"</a></p> }.into_any(),
                            Err(e) => view! { <p role="alert" class="mt-1 text-xs text-red-700 dark:text-red-400" data-testid="view-error">{e.to_string()}</p> }.into_any(),
                        })}
                    </details>
                })
            })}
        </Transition>
    }
}
