//! The board's server-function answers as JSON text, for assertions.
//!
//! Answers travel as postcard (`app/src/api/codec.rs`), and pages carry
//! their hydration data as base64 postcard. The tests read both back into
//! the board's own types and re-serialize them as JSON, so an assertion
//! sees every field by name and a secret scan sees every string.
use base64::Engine as _;
use ff_board_app::api::{actions, approvals, audit_types, budgets, bulk, executions, flows, leases, overview, status, tail, views};
use ff_board_app::api::codec::Postcard;
use leptos::server_fn::{Bytes, Decodes};
use serde::{de::DeserializeOwned, Serialize};

fn json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> String {
    // The board's own decoder: the build fingerprint and the exact length are checked there.
    match <Postcard as Decodes<T>>::decode(Bytes::copy_from_slice(bytes)) {
        Ok(v) => serde_json::to_string(&v).expect("answer serializes"),
        Err(e) => panic!("answer is not a postcard {}: {e}", std::any::type_name::<T>()),
    }
}

/// The answer of server function `endpoint` as JSON.
pub fn answer(endpoint: &str, bytes: &[u8]) -> String {
    match endpoint {
        "execution_action" | "decide_waitpoint" | "reset_budget_action" | "cancel_flow_action" => json::<actions::ActionResult>(bytes),
        "flow_cancel_preview" | "replay_preview" => json::<actions::Preview>(bytes),
        "execution_panel" => json::<actions::ExecutionPanel>(bytes),
        "list_approvals" => json::<approvals::ApprovalsPage>(bytes),
        "list_budgets" => json::<Vec<budgets::BudgetView>>(bytes),
        "budget_detail" => json::<budgets::BudgetView>(bytes),
        "bulk_preview" => json::<bulk::BulkCount>(bytes),
        "bulk_step" => json::<bulk::BulkProgress>(bytes),
        "list_executions" => json::<executions::ExecutionsList>(bytes),
        "get_execution" => json::<executions::ExecutionDetail>(bytes),
        "list_flows" => json::<flows::FlowsList>(bytes),
        "get_flow" => json::<flows::FlowDetail>(bytes),
        "get_leases" => json::<leases::LeasesView>(bytes),
        "list_lanes" => json::<leases::LanesView>(bytes),
        "get_overview" => json::<overview::OverviewView>(bytes),
        "list_audit" => json::<Vec<audit_types::AuditRow>>(bytes),
        "get_board_info" => json::<status::BoardInfo>(bytes),
        "get_status" => json::<status::StatusView>(bytes),
        "jump" | "save_view" | "delete_view" | "rendered" => json::<String>(bytes),
        "list_views" => json::<views::Views>(bytes),
        "tail_frames" => json::<tail::Tail>(bytes),
        other => panic!("wire::answer: no answer type listed for {other}"),
    }
}

/// The strings inside a page's hydration data (`__RESOLVED_RESOURCES`),
/// decoded from base64 postcard, for secret scans: postcard keeps every
/// string as its raw bytes.
pub fn hydration_strings(html: &str) -> String {
    let mut out = String::new();
    let Some(start) = html.find("__RESOLVED_RESOURCES") else { return out };
    for chunk in html[start..].split('"').skip(1).step_by(2) {
        if chunk.len() < 4 || !chunk.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/') {
            continue;
        }
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(chunk) {
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_answers_and_hydration_data() {
        let mut lanes = ff_board_app::api::codec::BUILD.to_le_bytes().to_vec();
        let view = ff_board_app::api::leases::LanesView {
            lanes: vec![ff_board_app::api::leases::LaneRow { name: "billing".into(), registered: false }],
            discovery: Some((63, 0)),
        };
        lanes.extend(postcard::to_allocvec(&view).unwrap());
        assert_eq!(answer("list_lanes", &lanes), r#"{"lanes":[{"name":"billing","registered":false}],"discovery":[63,0]}"#);
        let blob = base64::engine::general_purpose::STANDARD_NO_PAD.encode(postcard::to_allocvec(&("wp-secret-1", 3u8)).unwrap());
        let html = format!(r#"<script>__RESOLVED_RESOURCES=["{blob}"];</script>"#);
        assert!(hydration_strings(&html).contains("wp-secret-1"));
    }
}
