//! The delegation of every `EngineBackend` method of [`Filled`] to the
//! wrapped backend (or to its side store, [`FillReads`]): mechanical
//! forwarding, one method each, so the wrapper stays a complete backend.
use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use ff_core::backend::{
    AppendFrameOutcome, CancelFlowPolicy, CancelFlowWait, CapabilitySet, ClaimPolicy, CompletionPayload,
    FailOutcome, FailureClass, FailureReason, Frame, Handle, LeaseRenewal, PendingWaitpoint, PrepareOutcome,
    ResumeSignal, ResumeToken, ScannerFilter, SummaryDocument, TailVisibility, UsageDimensions,
};
use ff_core::capability::Capabilities;
// The trait's argument and result types (99 of them).
use ff_core::contracts::*;
use ff_core::engine_backend::{EngineBackend, ExpirePhase, ReconcileCounts, SiblingCancelReconcileAction};
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionKey};
use ff_core::state::{LifecyclePhase, PublicState};
use ff_core::stream_events::{
    CompletionSubscription, InstanceTagSubscription, LeaseHistorySubscription, SignalDeliverySubscription,
};
use ff_core::types::{
    AttemptIndex, BudgetId, EdgeId, ExecutionId, FlowId, LaneId, LeaseFence, QuotaPolicyId, TimestampMs,
    WaitpointId,
};

use super::{FillReads, Filled, Inner};

#[async_trait]
impl<S: FillReads> EngineBackend for Filled<S> {
    async fn claim(&self, lane: &LaneId, capabilities: &CapabilitySet, policy: ClaimPolicy) -> Result<Option<Handle>, EngineError> {
        <Inner<S> as EngineBackend>::claim(&self.inner, lane, capabilities, policy).await
    }
    async fn renew(&self, handle: &Handle) -> Result<LeaseRenewal, EngineError> {
        <Inner<S> as EngineBackend>::renew(&self.inner, handle).await
    }
    async fn progress(&self, handle: &Handle, percent: Option<u8>, message: Option<String>) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::progress(&self.inner, handle, percent, message).await
    }
    async fn append_frame(&self, handle: &Handle, frame: Frame) -> Result<AppendFrameOutcome, EngineError> {
        <Inner<S> as EngineBackend>::append_frame(&self.inner, handle, frame).await
    }
    async fn complete(&self, handle: &Handle, payload: Option<Vec<u8>>) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::complete(&self.inner, handle, payload).await
    }
    async fn fail(&self, handle: &Handle, reason: FailureReason, classification: FailureClass) -> Result<FailOutcome, EngineError> {
        <Inner<S> as EngineBackend>::fail(&self.inner, handle, reason, classification).await
    }
    async fn cancel(&self, handle: &Handle, reason: &str) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::cancel(&self.inner, handle, reason).await
    }
    async fn suspend(&self, handle: &Handle, args: SuspendArgs) -> Result<SuspendOutcome, EngineError> {
        <Inner<S> as EngineBackend>::suspend(&self.inner, handle, args).await
    }
    async fn suspend_by_triple(&self, exec_id: ExecutionId, triple: LeaseFence, args: SuspendArgs) -> Result<SuspendOutcome, EngineError> {
        <Inner<S> as EngineBackend>::suspend_by_triple(&self.inner, exec_id, triple, args).await
    }
    async fn create_waitpoint(&self, handle: &Handle, waitpoint_key: &str, expires_in: Duration) -> Result<PendingWaitpoint, EngineError> {
        <Inner<S> as EngineBackend>::create_waitpoint(&self.inner, handle, waitpoint_key, expires_in).await
    }
    async fn read_waitpoint_token(&self, partition: PartitionKey, waitpoint_id: &WaitpointId) -> Result<Option<String>, EngineError> {
        <Inner<S> as EngineBackend>::read_waitpoint_token(&self.inner, partition, waitpoint_id).await
    }
    async fn observe_signals(&self, handle: &Handle) -> Result<Vec<ResumeSignal>, EngineError> {
        <Inner<S> as EngineBackend>::observe_signals(&self.inner, handle).await
    }
    async fn claim_from_resume_grant(&self, token: ResumeToken) -> Result<Option<Handle>, EngineError> {
        <Inner<S> as EngineBackend>::claim_from_resume_grant(&self.inner, token).await
    }
    async fn issue_reclaim_grant(&self, args: IssueReclaimGrantArgs) -> Result<IssueReclaimGrantOutcome, EngineError> {
        <Inner<S> as EngineBackend>::issue_reclaim_grant(&self.inner, args).await
    }
    async fn reclaim_execution(&self, args: ReclaimExecutionArgs) -> Result<ReclaimExecutionOutcome, EngineError> {
        <Inner<S> as EngineBackend>::reclaim_execution(&self.inner, args).await
    }
    async fn delay(&self, handle: &Handle, delay_until: TimestampMs) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::delay(&self.inner, handle, delay_until).await
    }
    async fn wait_children(&self, handle: &Handle) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::wait_children(&self.inner, handle).await
    }
    async fn describe_execution(&self, id: &ExecutionId) -> Result<Option<ExecutionSnapshot>, EngineError> {
        match S::exec_row(&self.pool, id).await? {
            Some(row) => row.snapshot(id),
            None => Ok(None),
        }
    }
    async fn read_execution_context(&self, execution_id: &ExecutionId) -> Result<ExecutionContext, EngineError> {
        <Inner<S> as EngineBackend>::read_execution_context(&self.inner, execution_id).await
    }
    async fn read_current_attempt_index(&self, execution_id: &ExecutionId) -> Result<AttemptIndex, EngineError> {
        <Inner<S> as EngineBackend>::read_current_attempt_index(&self.inner, execution_id).await
    }
    async fn read_total_attempt_count(&self, execution_id: &ExecutionId) -> Result<AttemptIndex, EngineError> {
        <Inner<S> as EngineBackend>::read_total_attempt_count(&self.inner, execution_id).await
    }
    async fn describe_flow(&self, id: &FlowId) -> Result<Option<FlowSnapshot>, EngineError> {
        S::describe_flow(&self.pool, &self.inner, id).await
    }
    async fn set_execution_tag(&self, execution_id: &ExecutionId, key: &str, value: &str) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::set_execution_tag(&self.inner, execution_id, key, value).await
    }
    async fn set_flow_tag(&self, flow_id: &FlowId, key: &str, value: &str) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::set_flow_tag(&self.inner, flow_id, key, value).await
    }
    async fn get_execution_tag(&self, execution_id: &ExecutionId, key: &str) -> Result<Option<String>, EngineError> {
        <Inner<S> as EngineBackend>::get_execution_tag(&self.inner, execution_id, key).await
    }
    async fn get_execution_namespace(&self, execution_id: &ExecutionId) -> Result<Option<String>, EngineError> {
        <Inner<S> as EngineBackend>::get_execution_namespace(&self.inner, execution_id).await
    }
    async fn get_flow_tag(&self, flow_id: &FlowId, key: &str) -> Result<Option<String>, EngineError> {
        <Inner<S> as EngineBackend>::get_flow_tag(&self.inner, flow_id, key).await
    }
    async fn list_edges(&self, flow_id: &FlowId, direction: EdgeDirection) -> Result<Vec<EdgeSnapshot>, EngineError> {
        S::list_edges(&self.pool, &self.inner, flow_id, direction).await
    }
    async fn describe_edge(&self, flow_id: &FlowId, edge_id: &EdgeId) -> Result<Option<EdgeSnapshot>, EngineError> {
        S::describe_edge(&self.pool, &self.inner, flow_id, edge_id).await
    }
    async fn resolve_execution_flow_id(&self, eid: &ExecutionId) -> Result<Option<FlowId>, EngineError> {
        S::resolve_execution_flow_id(&self.pool, &self.inner, eid).await
    }
    async fn list_flows(&self, partition: PartitionKey, cursor: Option<FlowId>, limit: usize) -> Result<ListFlowsPage, EngineError> {
        S::list_flows(&self.pool, &self.inner, partition, cursor, limit).await
    }
    async fn list_lanes(&self, cursor: Option<LaneId>, limit: usize) -> Result<ListLanesPage, EngineError> {
        S::list_lanes(&self.pool, &self.inner, cursor, limit).await
    }
    async fn list_suspended(&self, partition: PartitionKey, cursor: Option<ExecutionId>, limit: usize) -> Result<ListSuspendedPage, EngineError> {
        S::list_suspended(&self.pool, &self.inner, partition, cursor, limit).await
    }
    async fn list_executions(&self, partition: PartitionKey, cursor: Option<ExecutionId>, limit: usize) -> Result<ListExecutionsPage, EngineError> {
        S::list_executions(&self.pool, &self.inner, partition, cursor, limit).await
    }
    async fn deliver_signal(&self, args: DeliverSignalArgs) -> Result<DeliverSignalResult, EngineError> {
        <Inner<S> as EngineBackend>::deliver_signal(&self.inner, args).await
    }
    async fn claim_resumed_execution(&self, args: ClaimResumedExecutionArgs) -> Result<ClaimResumedExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::claim_resumed_execution(&self.inner, args).await
    }
    async fn scan_eligible_executions(&self, args: ScanEligibleArgs) -> Result<Vec<ExecutionId>, EngineError> {
        <Inner<S> as EngineBackend>::scan_eligible_executions(&self.inner, args).await
    }
    async fn issue_claim_grant(&self, args: IssueClaimGrantArgs) -> Result<IssueClaimGrantOutcome, EngineError> {
        <Inner<S> as EngineBackend>::issue_claim_grant(&self.inner, args).await
    }
    async fn block_route(&self, args: BlockRouteArgs) -> Result<BlockRouteOutcome, EngineError> {
        <Inner<S> as EngineBackend>::block_route(&self.inner, args).await
    }
    async fn claim_execution(&self, args: ClaimExecutionArgs) -> Result<ClaimExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::claim_execution(&self.inner, args).await
    }
    async fn cancel_flow(&self, id: &FlowId, policy: CancelFlowPolicy, wait: CancelFlowWait) -> Result<CancelFlowResult, EngineError> {
        <Inner<S> as EngineBackend>::cancel_flow(&self.inner, id, policy, wait).await
    }
    async fn set_edge_group_policy(
        &self,
        flow_id: &FlowId,
        downstream_execution_id: &ExecutionId,
        policy: EdgeDependencyPolicy,
    ) -> Result<SetEdgeGroupPolicyResult, EngineError> {
        <Inner<S> as EngineBackend>::set_edge_group_policy(&self.inner, flow_id, downstream_execution_id, policy)
            .await
    }
    async fn rotate_waitpoint_hmac_secret_all(
        &self,
        args: RotateWaitpointHmacSecretAllArgs,
    ) -> Result<RotateWaitpointHmacSecretAllResult, EngineError> {
        <Inner<S> as EngineBackend>::rotate_waitpoint_hmac_secret_all(&self.inner, args).await
    }
    async fn seed_waitpoint_hmac_secret(&self, args: SeedWaitpointHmacSecretArgs) -> Result<SeedOutcome, EngineError> {
        <Inner<S> as EngineBackend>::seed_waitpoint_hmac_secret(&self.inner, args).await
    }
    async fn report_usage(&self, handle: &Handle, budget: &BudgetId, dimensions: UsageDimensions) -> Result<ReportUsageResult, EngineError> {
        <Inner<S> as EngineBackend>::report_usage(&self.inner, handle, budget, dimensions).await
    }
    async fn read_stream(
        &self,
        execution_id: &ExecutionId,
        attempt_index: AttemptIndex,
        from: StreamCursor,
        to: StreamCursor,
        count_limit: u64,
    ) -> Result<StreamFrames, EngineError> {
        <Inner<S> as EngineBackend>::read_stream(&self.inner, execution_id, attempt_index, from, to, count_limit)
            .await
    }
    async fn tail_stream(
        &self,
        execution_id: &ExecutionId,
        attempt_index: AttemptIndex,
        after: StreamCursor,
        block_ms: u64,
        count_limit: u64,
        visibility: TailVisibility,
    ) -> Result<StreamFrames, EngineError> {
        <Inner<S> as EngineBackend>::tail_stream(
            &self.inner,
            execution_id,
            attempt_index,
            after,
            block_ms,
            count_limit,
            visibility,
        )
        .await
    }
    async fn read_summary(&self, execution_id: &ExecutionId, attempt_index: AttemptIndex) -> Result<Option<SummaryDocument>, EngineError> {
        <Inner<S> as EngineBackend>::read_summary(&self.inner, execution_id, attempt_index).await
    }
    async fn create_execution(&self, args: CreateExecutionArgs) -> Result<CreateExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::create_execution(&self.inner, args).await
    }
    async fn create_flow(&self, args: CreateFlowArgs) -> Result<CreateFlowResult, EngineError> {
        <Inner<S> as EngineBackend>::create_flow(&self.inner, args).await
    }
    async fn add_execution_to_flow(&self, args: AddExecutionToFlowArgs) -> Result<AddExecutionToFlowResult, EngineError> {
        <Inner<S> as EngineBackend>::add_execution_to_flow(&self.inner, args).await
    }
    async fn stage_dependency_edge(&self, args: StageDependencyEdgeArgs) -> Result<StageDependencyEdgeResult, EngineError> {
        <Inner<S> as EngineBackend>::stage_dependency_edge(&self.inner, args).await
    }
    async fn apply_dependency_to_child(&self, args: ApplyDependencyToChildArgs) -> Result<ApplyDependencyToChildResult, EngineError> {
        <Inner<S> as EngineBackend>::apply_dependency_to_child(&self.inner, args).await
    }
    async fn resolve_dependency(&self, args: ResolveDependencyArgs) -> Result<ResolveDependencyOutcome, EngineError> {
        <Inner<S> as EngineBackend>::resolve_dependency(&self.inner, args).await
    }
    async fn cascade_completion(&self, payload: &CompletionPayload) -> Result<CascadeOutcome, EngineError> {
        <Inner<S> as EngineBackend>::cascade_completion(&self.inner, payload).await
    }
    async fn cancel_execution(&self, args: CancelExecutionArgs) -> Result<CancelExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::cancel_execution(&self.inner, args).await
    }
    async fn change_priority(&self, args: ChangePriorityArgs) -> Result<ChangePriorityResult, EngineError> {
        <Inner<S> as EngineBackend>::change_priority(&self.inner, args).await
    }
    async fn replay_execution(&self, args: ReplayExecutionArgs) -> Result<ReplayExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::replay_execution(&self.inner, args).await
    }
    async fn revoke_lease(&self, args: RevokeLeaseArgs) -> Result<RevokeLeaseResult, EngineError> {
        <Inner<S> as EngineBackend>::revoke_lease(&self.inner, args).await
    }
    async fn complete_execution(&self, args: CompleteExecutionArgs) -> Result<CompleteExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::complete_execution(&self.inner, args).await
    }
    async fn fail_execution(&self, args: FailExecutionArgs) -> Result<FailExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::fail_execution(&self.inner, args).await
    }
    async fn renew_lease(&self, args: RenewLeaseArgs) -> Result<RenewLeaseResult, EngineError> {
        <Inner<S> as EngineBackend>::renew_lease(&self.inner, args).await
    }
    async fn resume_execution(&self, args: ResumeExecutionArgs) -> Result<ResumeExecutionResult, EngineError> {
        <Inner<S> as EngineBackend>::resume_execution(&self.inner, args).await
    }
    async fn check_admission(
        &self,
        quota_policy_id: &QuotaPolicyId,
        dimension: &str,
        args: CheckAdmissionArgs,
    ) -> Result<CheckAdmissionResult, EngineError> {
        <Inner<S> as EngineBackend>::check_admission(&self.inner, quota_policy_id, dimension, args).await
    }
    async fn block_execution_for_admission(&self, args: BlockExecutionForAdmissionArgs) -> Result<BlockExecutionForAdmissionOutcome, EngineError> {
        <Inner<S> as EngineBackend>::block_execution_for_admission(&self.inner, args).await
    }
    async fn read_budget_usage_and_limits(&self, budget_id: &BudgetId) -> Result<BudgetUsageAndLimits, EngineError> {
        <Inner<S> as EngineBackend>::read_budget_usage_and_limits(&self.inner, budget_id).await
    }
    async fn read_quota_policy_limits(&self, quota_policy_id: &QuotaPolicyId) -> Result<Option<QuotaPolicyLimits>, EngineError> {
        <Inner<S> as EngineBackend>::read_quota_policy_limits(&self.inner, quota_policy_id).await
    }
    async fn evaluate_flow_eligibility(&self, args: EvaluateFlowEligibilityArgs) -> Result<EvaluateFlowEligibilityResult, EngineError> {
        <Inner<S> as EngineBackend>::evaluate_flow_eligibility(&self.inner, args).await
    }
    async fn record_spend(&self, args: RecordSpendArgs) -> Result<ReportUsageResult, EngineError> {
        <Inner<S> as EngineBackend>::record_spend(&self.inner, args).await
    }
    async fn release_budget(&self, args: ReleaseBudgetArgs) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::release_budget(&self.inner, args).await
    }
    async fn release_admission(&self, args: ReleaseAdmissionArgs) -> Result<ReleaseAdmissionResult, EngineError> {
        <Inner<S> as EngineBackend>::release_admission(&self.inner, args).await
    }
    async fn deliver_approval_signal(&self, args: DeliverApprovalSignalArgs) -> Result<DeliverSignalResult, EngineError> {
        <Inner<S> as EngineBackend>::deliver_approval_signal(&self.inner, args).await
    }
    async fn issue_grant_and_claim(&self, args: IssueGrantAndClaimArgs) -> Result<ClaimGrantOutcome, EngineError> {
        <Inner<S> as EngineBackend>::issue_grant_and_claim(&self.inner, args).await
    }
    async fn create_budget(&self, args: CreateBudgetArgs) -> Result<CreateBudgetResult, EngineError> {
        <Inner<S> as EngineBackend>::create_budget(&self.inner, args).await
    }
    async fn reset_budget(&self, args: ResetBudgetArgs) -> Result<ResetBudgetResult, EngineError> {
        <Inner<S> as EngineBackend>::reset_budget(&self.inner, args).await
    }
    async fn create_quota_policy(&self, args: CreateQuotaPolicyArgs) -> Result<CreateQuotaPolicyResult, EngineError> {
        <Inner<S> as EngineBackend>::create_quota_policy(&self.inner, args).await
    }
    async fn get_budget_status(&self, id: &BudgetId) -> Result<BudgetStatus, EngineError> {
        <Inner<S> as EngineBackend>::get_budget_status(&self.inner, id).await
    }
    async fn report_usage_admin(&self, budget: &BudgetId, args: ReportUsageAdminArgs) -> Result<ReportUsageResult, EngineError> {
        <Inner<S> as EngineBackend>::report_usage_admin(&self.inner, budget, args).await
    }
    async fn get_execution_result(&self, id: &ExecutionId) -> Result<Option<Vec<u8>>, EngineError> {
        <Inner<S> as EngineBackend>::get_execution_result(&self.inner, id).await
    }
    async fn list_pending_waitpoints(&self, args: ListPendingWaitpointsArgs) -> Result<ListPendingWaitpointsResult, EngineError> {
        <Inner<S> as EngineBackend>::list_pending_waitpoints(&self.inner, args).await
    }
    async fn ping(&self) -> Result<(), EngineError> {
        S::ping(&self.pool, &self.inner).await
    }
    async fn register_worker(&self, args: RegisterWorkerArgs) -> Result<RegisterWorkerOutcome, EngineError> {
        <Inner<S> as EngineBackend>::register_worker(&self.inner, args).await
    }
    async fn heartbeat_worker(&self, args: HeartbeatWorkerArgs) -> Result<HeartbeatWorkerOutcome, EngineError> {
        <Inner<S> as EngineBackend>::heartbeat_worker(&self.inner, args).await
    }
    async fn mark_worker_dead(&self, args: MarkWorkerDeadArgs) -> Result<MarkWorkerDeadOutcome, EngineError> {
        <Inner<S> as EngineBackend>::mark_worker_dead(&self.inner, args).await
    }
    async fn list_expired_leases(&self, args: ListExpiredLeasesArgs) -> Result<ListExpiredLeasesResult, EngineError> {
        <Inner<S> as EngineBackend>::list_expired_leases(&self.inner, args).await
    }
    async fn list_workers(&self, args: ListWorkersArgs) -> Result<ListWorkersResult, EngineError> {
        <Inner<S> as EngineBackend>::list_workers(&self.inner, args).await
    }
    async fn claim_for_worker(&self, args: ClaimForWorkerArgs) -> Result<ClaimForWorkerOutcome, EngineError> {
        <Inner<S> as EngineBackend>::claim_for_worker(&self.inner, args).await
    }
    fn backend_label(&self) -> &'static str {
        <Inner<S> as EngineBackend>::backend_label(&self.inner)
    }
    fn as_any(&self) -> &(dyn std::any::Any + 'static) {
        self
    }
    fn capabilities(&self) -> Capabilities {
        <Inner<S> as EngineBackend>::capabilities(&self.inner)
    }
    async fn prepare(&self) -> Result<PrepareOutcome, EngineError> {
        <Inner<S> as EngineBackend>::prepare(&self.inner).await
    }
    async fn shutdown_prepare(&self, grace: Duration) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::shutdown_prepare(&self.inner, grace).await
    }
    async fn cancel_flow_header(&self, args: CancelFlowArgs) -> Result<CancelFlowHeader, EngineError> {
        <Inner<S> as EngineBackend>::cancel_flow_header(&self.inner, args).await
    }
    async fn ack_cancel_member(&self, flow_id: &FlowId, execution_id: &ExecutionId) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::ack_cancel_member(&self.inner, flow_id, execution_id).await
    }
    async fn read_execution_info(&self, id: &ExecutionId) -> Result<Option<ExecutionInfo>, EngineError> {
        let Some(mut info) = <Inner<S> as EngineBackend>::read_execution_info(&self.inner, id).await? else {
            return Ok(None);
        };
        // Same 0.15 gap as `describe_execution` (see `state_fix`): a
        // terminal row may still carry its last live `public_state`.
        if info.state_vector.lifecycle_phase == LifecyclePhase::Terminal {
            if let Some(row) = S::exec_row(&self.pool, id).await? {
                let state = row.public_state()?;
                (info.public_state, info.state_vector.public_state) = (state, state);
            }
        }
        Ok(Some(info))
    }
    async fn read_execution_state(&self, id: &ExecutionId) -> Result<Option<PublicState>, EngineError> {
        <Inner<S> as EngineBackend>::read_execution_state(&self.inner, id).await
    }
    async fn subscribe_lease_history(
        &self,
        cursor: ff_core::stream_subscribe::StreamCursor,
        filter: &ScannerFilter,
    ) -> Result<LeaseHistorySubscription, EngineError> {
        <Inner<S> as EngineBackend>::subscribe_lease_history(&self.inner, cursor, filter).await
    }
    async fn subscribe_completion(
        &self,
        cursor: ff_core::stream_subscribe::StreamCursor,
        filter: &ScannerFilter,
    ) -> Result<CompletionSubscription, EngineError> {
        <Inner<S> as EngineBackend>::subscribe_completion(&self.inner, cursor, filter).await
    }
    async fn subscribe_signal_delivery(
        &self,
        cursor: ff_core::stream_subscribe::StreamCursor,
        filter: &ScannerFilter,
    ) -> Result<SignalDeliverySubscription, EngineError> {
        <Inner<S> as EngineBackend>::subscribe_signal_delivery(&self.inner, cursor, filter).await
    }
    async fn subscribe_instance_tags(&self, cursor: ff_core::stream_subscribe::StreamCursor) -> Result<InstanceTagSubscription, EngineError> {
        <Inner<S> as EngineBackend>::subscribe_instance_tags(&self.inner, cursor).await
    }
    async fn mark_lease_expired_if_due(&self, partition: Partition, execution_id: &ExecutionId) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::mark_lease_expired_if_due(&self.inner, partition, execution_id).await
    }
    async fn promote_delayed(&self, partition: Partition, lane: &LaneId, execution_id: &ExecutionId, now_ms: TimestampMs) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::promote_delayed(&self.inner, partition, lane, execution_id, now_ms).await
    }
    async fn close_waitpoint(
        &self,
        partition: Partition,
        execution_id: &ExecutionId,
        waitpoint_id: &str,
        now_ms: TimestampMs,
    ) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::close_waitpoint(&self.inner, partition, execution_id, waitpoint_id, now_ms)
            .await
    }
    async fn expire_execution(
        &self,
        partition: Partition,
        execution_id: &ExecutionId,
        phase: ExpirePhase,
        now_ms: TimestampMs,
    ) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::expire_execution(&self.inner, partition, execution_id, phase, now_ms).await
    }
    async fn expire_suspension(&self, partition: Partition, execution_id: &ExecutionId, now_ms: TimestampMs) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::expire_suspension(&self.inner, partition, execution_id, now_ms).await
    }
    async fn unblock_execution(
        &self,
        partition: Partition,
        lane_id: &LaneId,
        execution_id: &ExecutionId,
        expected_blocking_reason: &str,
        now_ms: TimestampMs,
    ) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::unblock_execution(
            &self.inner,
            partition,
            lane_id,
            execution_id,
            expected_blocking_reason,
            now_ms,
        )
        .await
    }
    async fn drain_sibling_cancel_group(&self, flow_partition: Partition, flow_id: &FlowId, downstream_eid: &ExecutionId) -> Result<(), EngineError> {
        <Inner<S> as EngineBackend>::drain_sibling_cancel_group(
            &self.inner,
            flow_partition,
            flow_id,
            downstream_eid,
        )
        .await
    }
    async fn reconcile_sibling_cancel_group(
        &self,
        flow_partition: Partition,
        flow_id: &FlowId,
        downstream_eid: &ExecutionId,
    ) -> Result<SiblingCancelReconcileAction, EngineError> {
        <Inner<S> as EngineBackend>::reconcile_sibling_cancel_group(
            &self.inner,
            flow_partition,
            flow_id,
            downstream_eid,
        )
        .await
    }
    async fn reconcile_execution_index(
        &self,
        partition: Partition,
        lanes: &[LaneId],
        filter: &ScannerFilter,
    ) -> Result<ReconcileCounts, EngineError> {
        <Inner<S> as EngineBackend>::reconcile_execution_index(&self.inner, partition, lanes, filter).await
    }
    async fn reconcile_budget_counters(&self, partition: Partition, now_ms: TimestampMs) -> Result<ReconcileCounts, EngineError> {
        <Inner<S> as EngineBackend>::reconcile_budget_counters(&self.inner, partition, now_ms).await
    }
    async fn reconcile_quota_counters(&self, partition: Partition, now_ms: TimestampMs) -> Result<ReconcileCounts, EngineError> {
        <Inner<S> as EngineBackend>::reconcile_quota_counters(&self.inner, partition, now_ms).await
    }
    async fn project_flow_summary(&self, partition: Partition, flow_id: &FlowId, now_ms: TimestampMs) -> Result<bool, EngineError> {
        <Inner<S> as EngineBackend>::project_flow_summary(&self.inner, partition, flow_id, now_ms).await
    }
    async fn trim_retention(
        &self,
        partition: Partition,
        lane_id: &LaneId,
        retention_ms: u64,
        now_ms: TimestampMs,
        batch_size: u32,
        filter: &ScannerFilter,
    ) -> Result<u32, EngineError> {
        <Inner<S> as EngineBackend>::trim_retention(
            &self.inner,
            partition,
            lane_id,
            retention_ms,
            now_ms,
            batch_size,
            filter,
        )
        .await
    }
    async fn read_exec_core_fields(
        &self,
        partition: Partition,
        execution_id: &ExecutionId,
        fields: &[&str],
    ) -> Result<HashMap<String, Option<String>>, EngineError> {
        <Inner<S> as EngineBackend>::read_exec_core_fields(&self.inner, partition, execution_id, fields).await
    }
    async fn server_time_ms(&self) -> Result<u64, EngineError> {
        <Inner<S> as EngineBackend>::server_time_ms(&self.inner).await
    }
}
