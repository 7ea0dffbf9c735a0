//! One file per route.
mod approvals;
mod budgets;
mod execution;
mod executions;
mod flow;
mod flows;
mod jump;
pub(crate) mod leases;
mod live;
pub(crate) mod overview;
mod session;
pub(crate) mod status;
pub(crate) mod workers;

pub use approvals::ApprovalsPage;
pub use budgets::{BudgetPage, BudgetsPage};
pub use execution::ExecutionPage;
pub use executions::ExecutionsPage;
pub use flow::FlowPage;
pub use flows::FlowsPage;
pub use jump::JumpPage;
pub use leases::{LanesPage, LeasesPage};
pub use live::LivePage;
pub use overview::OverviewPage;
pub use session::{AuditPage, LoginPage};
pub use status::{NotFoundPage, StatusPage};
pub use workers::WorkersPage;
