//! Valkey's stored suspension as a [`Gate`]: one pipeline (the
//! suspension hash and its satisfier set), and ff-backend-valkey's wire
//! form of a resume condition (`resume_condition_json`) decoded back into
//! ff-core's [`ResumeCondition`].
use ff_core::contracts::{CompositeBody, CountKind, ResumeCondition, SignalMatcher};
use ff_core::keys::ExecKeyContext;
use ff_core::partition::{Partition, PartitionFamily};
use ff_core::types::ExecutionId;
use serde_json::Value;

use crate::gate::{Gate, Tally};
use crate::store_error::{Store, StoreError};

/// Valkey: one pipeline (the suspension hash and its satisfier set).
pub(crate) async fn read(client: &ferriskey::Client, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
    let failed = StoreError::at(Store::Suspensions, "read suspension");
    let mut p = client.pipeline();
    let (fields, tokens) = queue_valkey(&mut p, id);
    p.execute().await.map_err(&failed)?;
    let fields = fields.value().map_err(&failed)?;
    let tokens = tokens.value().map_err(&failed)?;
    valkey_gate(id, &fields, tokens)
}

/// Slots of one Valkey gate read: the suspension fields, the satisfier tokens.
pub type ValkeySlots = (ferriskey::PipeSlot<Vec<Option<String>>>, ferriskey::PipeSlot<Vec<String>>);

/// Queue the reads of `id`'s gate on a pipeline (decode with [`valkey_gate`]).
pub fn queue_valkey(p: &mut ferriskey::TypedPipeline, id: &ExecutionId) -> ValkeySlots {
    let partition = Partition { family: PartitionFamily::Flow, index: id.partition() };
    let key = ExecKeyContext::new(&partition, id).suspension_current();
    let fields = p
        .cmd::<Vec<Option<String>>>("HMGET")
        .arg(&key)
        .arg("resume_condition_json")
        .arg("waitpoint_key")
        .arg("timeout_at")
        .arg("timeout_behavior")
        .arg("closed_at")
        .arg("created_at")
        .finish();
    let tokens = p.cmd::<Vec<String>>("SMEMBERS").arg(format!("{key}:satisfied_set")).finish();
    (fields, tokens)
}

/// The suspension fields and satisfier tokens [`queue_valkey`] read, as a
/// gate; `None` when there is no open suspension.
pub fn valkey_gate(id: &ExecutionId, fields: &[Option<String>], tokens: Vec<String>) -> Result<Option<Gate>, StoreError> {
    let get = |i: usize| fields.get(i).cloned().flatten().filter(|s| !s.is_empty());
    let (Some(raw), None) = (get(0), get(4)) else { return Ok(None) };
    let wire: Value = serde_json::from_str(&raw).map_err(|e| crate::gate::unreadable(id, e))?;
    let condition = valkey_condition(&wire, &get(1).unwrap_or_default()).ok_or_else(|| {
        StoreError::invalid(
            Store::Suspensions,
            "decode gate",
            format!("stored resume condition of {id} has a shape this board does not know: {raw}"),
        )
    })?;
    Ok(Some(Gate {
        condition,
        tally: Tally::Tokens(tokens),
        suspended_at: get(5).and_then(|t| t.parse().ok()),
        timeout_at: get(2).and_then(|t| t.parse().ok()),
        timeout_behavior: get(3),
    }))
}

/// ff-backend-valkey's `resume_condition_json` back into a [`ResumeCondition`].
pub fn valkey_condition(wire: &Value, primary_key: &str) -> Option<ResumeCondition> {
    if wire.get("composite").and_then(Value::as_bool) == Some(true) {
        return valkey_node(wire.get("tree")?);
    }
    let names: Vec<&str> = wire.get("required_signal_names")?.as_array()?.iter().filter_map(Value::as_str).collect();
    Some(match names.as_slice() {
        ["__operator_only__"] => ResumeCondition::OperatorOnly,
        ["__timeout_only__"] => ResumeCondition::TimeoutOnly,
        [] => ResumeCondition::Single { waitpoint_key: primary_key.to_owned(), matcher: SignalMatcher::Wildcard },
        [name, ..] => ResumeCondition::Single { waitpoint_key: primary_key.to_owned(), matcher: SignalMatcher::ByName((*name).to_owned()) },
    })
}

fn valkey_matcher(v: &Value) -> Option<SignalMatcher> {
    match v.get("kind")?.as_str()? {
        "ByName" => Some(SignalMatcher::ByName(v.get("name")?.as_str()?.to_owned())),
        _ => Some(SignalMatcher::Wildcard),
    }
}

fn valkey_node(v: &Value) -> Option<ResumeCondition> {
    let strings = |k: &str| -> Option<Vec<String>> {
        Some(v.get(k)?.as_array()?.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    Some(match v.get("kind")?.as_str()? {
        "Single" => ResumeCondition::Single {
            waitpoint_key: v.get("waitpoint_key")?.as_str()?.to_owned(),
            matcher: v.get("matcher").and_then(valkey_matcher).unwrap_or(SignalMatcher::Wildcard),
        },
        "AllOf" => ResumeCondition::Composite(CompositeBody::all_of(
            v.get("members")?.as_array()?.iter().map(valkey_node).collect::<Option<Vec<_>>>()?,
        )),
        "Count" => ResumeCondition::Composite(CompositeBody::count(
            u32::try_from(v.get("n")?.as_u64()?).ok()?,
            match v.get("count_kind")?.as_str()? {
                "DistinctSignals" => CountKind::DistinctSignals,
                "DistinctSources" => CountKind::DistinctSources,
                _ => CountKind::DistinctWaitpoints,
            },
            v.get("matcher").filter(|m| !m.is_null()).and_then(valkey_matcher),
            strings("waitpoints")?,
        )),
        // Operator- or timeout-only leaves under a composite.
        _ => ResumeCondition::OperatorOnly,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::progress;
    use crate::gate::tests::count;

    #[test]
    fn valkey_wire_forms_read_back() {
        let wire = serde_json::json!({"composite": true, "tree": {"kind": "Count", "path": "", "n": 2, "count_kind": "DistinctSources",
            "matcher": {"kind": "ByName", "name": "release-signoff"}, "waitpoints": ["wpk:1"]}});
        let cond = valkey_condition(&wire, "wpk:1").unwrap();
        assert_eq!(cond, count(2, Some("release-signoff"), &["wpk:1"]));
        let g = Gate { condition: cond, tally: Tally::Tokens(vec!["src:user:alice".into()]), suspended_at: None, timeout_at: None, timeout_behavior: None };
        let p = progress(&g);
        assert_eq!((p.have, p.who), (1, vec!["alice".to_owned()]));
        let single = serde_json::json!({"condition_type": "signal_set", "required_signal_names": []});
        assert_eq!(
            valkey_condition(&single, "k"),
            Some(ResumeCondition::Single { waitpoint_key: "k".into(), matcher: SignalMatcher::Wildcard })
        );
        let op = serde_json::json!({"required_signal_names": ["__operator_only__"]});
        assert_eq!(valkey_condition(&op, "k"), Some(ResumeCondition::OperatorOnly));
    }
}
