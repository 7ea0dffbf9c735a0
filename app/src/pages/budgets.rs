//! /budgets and /budgets/{budget_id}: usage per dimension against soft and
//! hard limits as bars, breach counts, next reset; on a budget's page the
//! usage of each dimension over the last hour.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::budgets::{budget_detail, list_budgets, BudgetView};
use crate::components::actions::BudgetReset;
use crate::components::budget_bar::BudgetBar;
use crate::components::chart::usage_chart;
use crate::components::card::Card;
use crate::components::feedback::{loaded, titled, Empty};
use crate::components::refresh::use_tick;
use crate::components::refresh::now_ms;
use crate::components::text::{decode, encode, Time};

/// The engine reports these instants as ms strings: show them as times.
fn when(raw: Option<String>, none: &'static str) -> AnyView {
    match raw.as_deref().map(str::parse::<i64>) {
        Some(Ok(t)) => view! { <Time t=t now=now_ms()/> }.into_any(),
        Some(Err(_)) => raw.unwrap_or_default().into_any(),
        None => none.into_any(),
    }
}

#[component]
pub fn BudgetsPage() -> impl IntoView {
    let tick = use_tick(3000);
    let data = crate::api::codec::resource(move || tick.get(), |_| list_budgets());
    titled("Budgets", data, |list| if list.is_empty() {
        view! { <Empty title="No budgets" hint="Budgets created with create_budget appear here with their usage."/> }.into_any()
    } else {
        view! {
            <div class="grid gap-4 md:grid-cols-2">
                {list.into_iter().map(|b| view! { <BudgetCard budget=b link=true/> }).collect_view()}
            </div>
        }.into_any()
    })
}

#[component]
pub fn BudgetPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || decode(&params.get().get("budget_id").unwrap_or_default());
    let tick = use_tick(3000);
    let data = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| budget_detail(id));
    view! {
        <Title text="Budget"/>
        <a href="/budgets" class="text-sm text-blue-700 hover:underline dark:text-blue-300">"← Budgets"</a>
        {loaded(data, None, |b| view! { <div class="mt-2 max-w-2xl"><BudgetCard budget=b link=false/></div> })}
        <div class="max-w-2xl"><BudgetReset id=Signal::derive(id)/></div>
    }
}

#[component]
fn BudgetCard(budget: BudgetView, link: bool) -> impl IntoView {
    let b = budget;
    let title = if link {
        view! { <a class="font-mono text-sm font-semibold text-blue-700 hover:underline dark:text-blue-300" href=format!("/budgets/{}", encode(&b.budget_id))>{b.budget_id.clone()}</a> }.into_any()
    } else {
        view! { <h1 class="font-mono text-lg font-semibold">{b.budget_id.clone()}</h1> }.into_any()
    };
    view! {
        <Card class="p-4" attr:data-testid="budget" attr:data-budget-id=b.budget_id.clone()>
            <div class="mb-3 flex items-baseline justify-between gap-2">
                {title}
                <span class="text-xs text-slate-500">{format!("{} · {}", b.scope, b.enforcement)}</span>
            </div>
            <div class="space-y-3">
                {b.dimensions.clone().into_iter().map(|d| view! { <BudgetBar dim=d/> }).collect_view()}
            </div>
            <dl class="mt-3 grid grid-cols-3 gap-2 text-xs">
                <div><dt class="text-slate-500">"Hard breaches"</dt><dd class="tabular-nums font-semibold" data-testid="hard-breaches">{b.breach_count}</dd></div>
                <div><dt class="text-slate-500">"Soft breaches"</dt><dd class="tabular-nums font-semibold">{b.soft_breach_count}</dd></div>
                <div><dt class="text-slate-500">"Next reset"</dt><dd>{when(b.next_reset_at.clone(), "no reset")}</dd></div>
            </dl>
            {b.last_breach_dim.clone().map(|d| view! { <p class="mt-1 text-xs text-slate-500">"last breach: "{d}" "{when(b.last_breach_at.clone(), "")}</p> })}
            {(!link).then(|| {
                let now = now_ms();
                b.history.into_iter().map(|h| {
                    let dim = b.dimensions.iter().find(|d| d.name == h.name);
                    view! { <div inner_html=usage_chart(&h.name, &h.points, dim.and_then(|d| d.soft), dim.and_then(|d| d.hard), now)></div> }
                }).collect_view()
            })}
        </Card>
    }
}
