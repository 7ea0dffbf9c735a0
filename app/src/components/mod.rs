//! Shared widgets: the page layout, cards, data tables, forms, state
//! badges, ids, times, the DAG, the budget bars, saved views and the error /
//! empty states.
pub mod actions;
pub mod audit;
pub mod budget_bar;
pub mod bulk;
pub mod card;
pub mod chart;
pub mod dag;
pub mod feedback;
pub mod form;
pub mod gantt;
pub mod gate;
pub mod layout;
pub mod live;
pub mod refresh;
pub mod shortcuts;
pub mod state;
pub mod table;
pub mod tail;
pub mod text;
pub mod views;
