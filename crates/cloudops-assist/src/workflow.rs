//! The workflow engine: a verified plan's steps in order, values captured from one step's
//! JSON output feeding later steps, waiters, verification steps re-run until they show the
//! expected value, a stop at the first failure followed by the playbook's rollback for the
//! resources already touched, every command in the audit trail, an execution record kept
//! on disk after every step (so an interrupted run can be resumed), and progress events for
//! front ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudops_core::{EnrichedRequest, PlanResponse, Step};
use cloudops_playbooks::CapturePath;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditLog, Outcome, Phase, TargetResult};
use crate::batch::{Batch, batch_of};
use crate::error::{Error, Result};
use crate::execute::{AccountCredentials, AwsCli, CommandOutput, Redactor, SessionCredentials};

/// The longest output excerpt kept in events and the audit trail.
const EXCERPT_CHARS: usize = 2000;

/// How verification steps are re-run.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowOptions {
    /// How long a verification step may take to show its expected value.
    pub expect_timeout: Duration,
    /// The pause between runs of a verification step.
    pub expect_interval: Duration,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Not run yet.
    Pending,
    /// Ran and succeeded.
    Succeeded,
    /// Ran and failed.
    Failed,
    /// Not run, and will not be (an earlier failure, or rollback not needed).
    Skipped,
}

/// One step of an execution record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Script, verification or rollback.
    pub phase: Phase,
    /// The step's id in the plan.
    pub step_id: String,
    /// Where it stands.
    pub status: StepStatus,
    /// The last exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Time spent, all runs together.
    #[serde(default)]
    pub duration_ms: u64,
    /// How many times it ran.
    #[serde(default)]
    pub runs: u32,
}

/// The state of one execution, written after every step: what ran, what it captured, how
/// it ended. An execution interrupted before it ended can be resumed from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// The execution id (also the audit trail's).
    pub id: String,
    /// The request the plan answered.
    pub request: EnrichedRequest,
    /// The verified plan.
    pub plan: PlanResponse,
    /// Every step, in plan order: script, verification, rollback.
    pub steps: Vec<StepRecord>,
    /// Values captured from outputs: `<step id>.<name>` → value.
    #[serde(default)]
    pub captures: BTreeMap<String, String>,
    /// How it ended; `None` while it runs (or when it was interrupted).
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// What happened, in one sentence.
    #[serde(default)]
    pub message: String,
    /// Each target's result, as it ended (the plan's skipped targets first).
    #[serde(default)]
    pub targets: Vec<TargetReport>,
}

impl ExecutionRecord {
    /// A record with every step pending.
    pub fn new(id: String, request: EnrichedRequest, plan: PlanResponse) -> Self {
        let mut steps = Vec::new();
        for (phase, script) in [
            (Phase::Script, &plan.script),
            (Phase::Verification, &plan.verification),
            (Phase::Rollback, &plan.rollback),
        ] {
            steps.extend(script.steps.iter().map(|step| StepRecord {
                phase,
                step_id: step.step_id.clone(),
                status: StepStatus::Pending,
                exit_code: None,
                duration_ms: 0,
                runs: 0,
            }));
        }
        ExecutionRecord {
            id,
            request,
            plan,
            steps,
            captures: BTreeMap::new(),
            outcome: None,
            message: String::new(),
            targets: Vec::new(),
        }
    }

    fn status(&self, phase: Phase, step_id: &str) -> StepStatus {
        self.steps
            .iter()
            .find(|s| s.phase == phase && s.step_id == step_id)
            .map_or(StepStatus::Pending, |s| s.status)
    }

    fn step_mut(&mut self, phase: Phase, step_id: &str) -> Option<&mut StepRecord> {
        self.steps.iter_mut().find(|s| s.phase == phase && s.step_id == step_id)
    }

    /// Whether the execution stopped before it ended and can be resumed.
    pub fn resumable(&self) -> bool {
        self.outcome.is_none()
    }
}

/// Execution records, one JSON file each under `<home>/executions/`.
#[derive(Debug, Clone)]
pub struct ExecutionStore {
    dir: PathBuf,
}

impl ExecutionStore {
    /// The store of the data directory `home`.
    pub fn open(home: &Path) -> Result<Self> {
        let dir = cloudops_core::DataDir::new(home).executions();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Execution(format!("{}: {e}", dir.display())))?;
        Ok(ExecutionStore { dir })
    }

    fn path(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::Execution(format!("{id:?} is not an execution id")));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    /// Writes `record` (atomically: a whole old or a whole new file, never half of one).
    pub fn save(&self, record: &ExecutionRecord) -> Result<()> {
        let path = self.path(&record.id)?;
        let temporary = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| Error::Execution(format!("execution record: {e}")))?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        };
        write().map_err(|e| Error::Execution(format!("{}: {e}", path.display())))
    }

    /// Whether execution `id` has a record.
    pub fn exists(&self, id: &str) -> Result<bool> {
        Ok(self.path(id)?.exists())
    }

    /// The record of execution `id`.
    pub fn load(&self, id: &str) -> Result<ExecutionRecord> {
        let path = self.path(id)?;
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::Execution(format!("no execution record {id} ({}): {e}", path.display()))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Execution(format!("{}: unreadable: {e}", path.display())))
    }
}

/// Progress of an execution, for front ends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ExecutionEvent {
    /// A step starts.
    StepStarted {
        /// Its phase.
        phase: Phase,
        /// Its id.
        step_id: String,
        /// What it does.
        description: String,
        /// `aws` and the arguments, as run.
        argv: Vec<String>,
    },
    /// A verification step did not show the expected value yet and will run again.
    StepRetrying {
        /// Its phase.
        phase: Phase,
        /// Its id.
        step_id: String,
        /// Runs so far.
        runs: u32,
        /// What it showed.
        observed: String,
    },
    /// A step ended.
    StepFinished {
        /// Its phase.
        phase: Phase,
        /// Its id.
        step_id: String,
        /// Whether it succeeded.
        succeeded: bool,
        /// The exit code.
        exit_code: Option<i32>,
        /// Time spent.
        duration_ms: u64,
        /// Its output (redacted, shortened).
        output: String,
    },
    /// A step will not run.
    StepSkipped {
        /// Its phase.
        phase: Phase,
        /// Its id.
        step_id: String,
        /// Why.
        reason: String,
    },
    /// A step failed; the rollback starts.
    RollbackStarted {
        /// What failed.
        reason: String,
    },
    /// One target is done (each target of a fleet, as it ends).
    TargetFinished {
        /// The resource (its ARN, else its id).
        target: String,
        /// Its name.
        name: String,
        /// How it ended.
        result: TargetResult,
        /// In one sentence.
        message: String,
    },
    /// The execution ended.
    Finished {
        /// How.
        outcome: Outcome,
        /// In one sentence.
        message: String,
    },
}

/// What an execution did to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TargetReport {
    /// The resource (its ARN, else its id), as the plan's steps name it.
    pub target: String,
    /// Its name, as the operator knows it.
    pub name: String,
    /// How it ended for this target.
    pub result: TargetResult,
    /// A sentence for the operator.
    pub message: String,
}

/// Runs verified plans.
pub struct Workflow<'a> {
    /// The AWS CLI.
    pub cli: &'a AwsCli,
    /// Credentials per account id.
    pub credentials: &'a BTreeMap<String, AccountCredentials>,
    /// Removes secrets from what is shown and stored.
    pub redactor: &'a Redactor,
    /// The audit trail.
    pub audit: &'a AuditLog,
    /// Where the record is kept.
    pub store: &'a ExecutionStore,
    /// Re-runs of verification steps.
    pub options: WorkflowOptions,
    /// How many targets run at once (at least one).
    pub concurrency: usize,
}

/// The result of one step; a failure says whether the command may have changed something
/// (it exited 0, or was stopped before it answered).
enum StepResult {
    Succeeded,
    Failed(String, bool),
}

/// One step of one target: the target's index among the units, and the step.
type TargetStep<'s> = (usize, &'s Step);

/// What a call for several targets settled, and the targets whose step must run on its own.
type BatchOutcome<'s> = (Vec<(usize, StepResult)>, Vec<TargetStep<'s>>);

/// One target's share of a plan.
struct Unit {
    target: String,
    name: String,
    script: Vec<Step>,
    verification: Vec<Step>,
    rollback: Vec<Step>,
}

/// The record, shared by the targets running at once; never locked across an await.
type Shared = std::sync::Mutex<ExecutionRecord>;

fn with<R>(shared: &Shared, f: impl FnOnce(&mut ExecutionRecord) -> R) -> R {
    let mut guard = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut guard)
}

impl Workflow<'_> {
    /// Runs (or resumes) the execution in `record`, target by target (up to
    /// `concurrency` at once): each target's pending script steps; on a failure, that
    /// target's rollback when something of it was changed; after success, its
    /// verification. One target's failure stops no other. The plan's skipped targets are
    /// reported as skipped. The record is saved after every step, each target's result is
    /// in the audit trail, and `on_event` hears the progress. When the targets share steps
    /// that AWS takes as a list, they run in step and each such step is one call for them
    /// ([`crate::batch`]); their results stay per target.
    pub async fn run(
        &self,
        record: &mut ExecutionRecord,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<Outcome> {
        use futures_util::stream::{self, StreamExt};

        if !record.resumable() {
            return Err(Error::Execution(format!(
                "execution {} already ended ({:?}); nothing to resume",
                record.id, record.outcome
            )));
        }
        self.store.save(record)?;
        for skipped in record.plan.skipped.clone() {
            if record.targets.iter().any(|t| t.target == skipped.target) {
                continue;
            }
            let report = TargetReport {
                target: skipped.target,
                name: skipped.name,
                result: TargetResult::Skipped,
                message: skipped.reason,
            };
            self.report(record, &report, on_event)?;
        }
        let units = Self::units(record);
        let single = units.len() == 1 && record.plan.skipped.is_empty();
        let shared: Shared = std::sync::Mutex::new(record.clone());
        let reports: Vec<TargetReport> = if batches(&units) {
            self.run_together(&shared, &units, on_event).await?
        } else {
            // The futures are made first, so that no closure lives in this future's state
            // (it must stay `Send` for any lifetime).
            let mut runs = Vec::with_capacity(units.len());
            for unit in &units {
                runs.push(self.run_unit(&shared, unit, on_event));
            }
            stream::iter(runs)
                .buffer_unordered(self.concurrency.max(1))
                .collect::<Vec<Result<TargetReport>>>()
                .await
                .into_iter()
                .collect::<Result<_>>()?
        };
        *record = shared.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (outcome, message) = if single {
            let report = &reports[0];
            (unit_outcome(report.result), report.message.clone())
        } else {
            fleet_outcome(&record.targets)
        };
        record.outcome = Some(outcome);
        record.message = message.clone();
        self.store.save(record)?;
        self.audit
            .append(&record.id, AuditEvent::Finished { outcome, message: message.clone() })?;
        on_event(&ExecutionEvent::Finished { outcome, message });
        Ok(outcome)
    }

    /// The plan's steps by target, in the order targets first appear. Every step of a
    /// verified plan names its target (`verify_plan` compares them with the client's own
    /// rendering).
    fn units(record: &ExecutionRecord) -> Vec<Unit> {
        let names: BTreeMap<String, String> = record
            .request
            .identified_resources
            .iter()
            .map(|r| (r.target(), crate::context::confirmation_name(r)))
            .collect();
        let mut units: Vec<Unit> = Vec::new();
        let mut positions: BTreeMap<String, usize> = BTreeMap::new();
        for (phase, steps) in [
            (Phase::Script, &record.plan.script.steps),
            (Phase::Verification, &record.plan.verification.steps),
            (Phase::Rollback, &record.plan.rollback.steps),
        ] {
            for step in steps {
                let target = step.target.clone().unwrap_or_default();
                let at = *positions.entry(target.clone()).or_insert_with(|| {
                    units.push(Unit {
                        name: names.get(&target).cloned().unwrap_or_else(|| target.clone()),
                        target,
                        script: Vec::new(),
                        verification: Vec::new(),
                        rollback: Vec::new(),
                    });
                    units.len() - 1
                });
                let unit = &mut units[at];
                match phase {
                    Phase::Script => unit.script.push(step.clone()),
                    Phase::Verification => unit.verification.push(step.clone()),
                    Phase::Rollback => unit.rollback.push(step.clone()),
                }
            }
        }
        units
    }

    /// Runs one target's steps: the script, then its verification, or on a failure its
    /// rollback (when something was changed).
    async fn run_unit(
        &self,
        shared: &Shared,
        unit: &Unit,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<TargetReport> {
        if let Some(done) =
            with(shared, |r| r.targets.iter().find(|t| t.target == unit.target).cloned())
        {
            return Ok(done);
        }
        let mut failure: Option<String> = None;
        let mut touched = false;
        for step in &unit.script {
            if with(shared, |r| r.status(Phase::Script, &step.step_id)) == StepStatus::Succeeded {
                touched = true;
                continue;
            }
            if let Some(reason) = &failure {
                let why = format!("an earlier step failed: {reason}");
                self.skip(shared, Phase::Script, step, &why, on_event)?;
                continue;
            }
            match self.step(shared, Phase::Script, step, on_event).await? {
                StepResult::Succeeded => touched = true,
                StepResult::Failed(reason, changed) => {
                    touched |= changed;
                    failure = Some(format!("step {} failed: {reason}", step.step_id));
                }
            }
        }
        let (result, message) = match failure {
            Some(reason) => {
                for step in &unit.verification {
                    self.skip(shared, Phase::Verification, step, "the script failed", on_event)?;
                }
                self.roll_back(shared, unit, touched, &reason, on_event).await?
            }
            None => {
                for step in &unit.rollback {
                    self.skip(shared, Phase::Rollback, step, "the script succeeded", on_event)?;
                }
                self.verify(shared, unit, on_event).await?
            }
        };
        let report =
            TargetReport { target: unit.target.clone(), name: unit.name.clone(), result, message };
        with(shared, |record| self.report(record, &report, on_event))?;
        Ok(report)
    }

    /// Runs the targets' steps in step: each step of every target before the next, the
    /// steps that can share an AWS CLI call ([`crate::batch`]) as one call per batch; then the
    /// failed targets' rollbacks and the others' verification, batched the same way. Each
    /// target's steps, results and reports are its own, as in [`Self::run_unit`].
    async fn run_together(
        &self,
        shared: &Shared,
        units: &[Unit],
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<Vec<TargetReport>> {
        use futures_util::stream::{self, StreamExt};

        let mut reports: Vec<Option<TargetReport>> = units
            .iter()
            .map(|unit| {
                with(shared, |r| r.targets.iter().find(|t| t.target == unit.target).cloned())
            })
            .collect();
        let mut failure: Vec<Option<String>> = vec![None; units.len()];
        let mut touched = vec![false; units.len()];
        for at in 0..units[0].script.len() {
            let mut todo = Vec::new();
            for (i, unit) in units.iter().enumerate() {
                let step = &unit.script[at];
                if reports[i].is_some() {
                    continue;
                }
                if with(shared, |r| r.status(Phase::Script, &step.step_id)) == StepStatus::Succeeded
                {
                    touched[i] = true;
                } else if let Some(reason) = &failure[i] {
                    let why = format!("an earlier step failed: {reason}");
                    self.skip(shared, Phase::Script, step, &why, on_event)?;
                } else {
                    todo.push((i, step));
                }
            }
            for (i, result) in self.steps_together(shared, Phase::Script, &todo, on_event).await? {
                match result {
                    StepResult::Succeeded => touched[i] = true,
                    StepResult::Failed(reason, changed) => {
                        touched[i] |= changed;
                        let id = &units[i].script[at].step_id;
                        failure[i] = Some(format!("step {id} failed: {reason}"));
                    }
                }
            }
        }

        // The failed targets: verification skipped, rolled back when touched.
        let mut rollbacks = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            let Some(reason) = failure[i].as_deref().filter(|_| reports[i].is_none()) else {
                continue;
            };
            for step in &unit.verification {
                self.skip(shared, Phase::Verification, step, "the script failed", on_event)?;
            }
            rollbacks.push(self.roll_back_target(shared, i, unit, touched[i], reason, on_event));
        }
        let mut ended: Vec<(usize, (TargetResult, String))> = stream::iter(rollbacks)
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<Result<(usize, (TargetResult, String))>>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;

        // The others: rollback skipped, verified in step.
        let verifying: Vec<usize> =
            (0..units.len()).filter(|&i| reports[i].is_none() && failure[i].is_none()).collect();
        let mut unverified: Vec<Option<String>> = vec![None; units.len()];
        for &i in &verifying {
            for step in &units[i].rollback {
                self.skip(shared, Phase::Rollback, step, "the script succeeded", on_event)?;
            }
        }
        for at in 0..units[0].verification.len() {
            let mut todo = Vec::new();
            for &i in &verifying {
                let step = &units[i].verification[at];
                match &unverified[i] {
                    Some(why) => self.skip(shared, Phase::Verification, step, why, on_event)?,
                    None => todo.push((i, step)),
                }
            }
            for (i, result) in
                self.steps_together(shared, Phase::Verification, &todo, on_event).await?
            {
                if let StepResult::Failed(why, _) = result {
                    let id = &units[i].verification[at].step_id;
                    unverified[i] = Some(format!("verification step {id} failed: {why}"));
                }
            }
        }
        for &i in &verifying {
            ended.push((i, verified(unverified[i].take(), units[i].verification.is_empty())));
        }

        for (i, (result, message)) in ended {
            let unit = &units[i];
            let report = TargetReport {
                target: unit.target.clone(),
                name: unit.name.clone(),
                result,
                message,
            };
            with(shared, |record| self.report(record, &report, on_event))?;
            reports[i] = Some(report);
        }
        Ok(reports.into_iter().flatten().collect())
    }

    async fn roll_back_target(
        &self,
        shared: &Shared,
        index: usize,
        unit: &Unit,
        touched: bool,
        reason: &str,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<(usize, (TargetResult, String))> {
        Ok((index, self.roll_back(shared, unit, touched, reason, on_event).await?))
    }

    /// Runs one step of each of several targets (`(target index, step)`): those that can
    /// share a call as one call per batch, the rest on their own, up to `concurrency` calls
    /// at once. A batched call that fails is run again per target, so each target's result
    /// is its own.
    async fn steps_together(
        &self,
        shared: &Shared,
        phase: Phase,
        todo: &[(usize, &Step)],
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<Vec<(usize, StepResult)>> {
        use futures_util::stream::{self, StreamExt};

        let mut batches: BTreeMap<String, (Batch, Vec<TargetStep<'_>>)> = BTreeMap::new();
        let mut alone: Vec<TargetStep<'_>> = Vec::new();
        for &(i, step) in todo {
            match batch_of(step) {
                Some(batch) => batches
                    .entry(batch.key.clone())
                    .or_insert((batch, Vec::new()))
                    .1
                    .push((i, step)),
                None => alone.push((i, step)),
            }
        }
        let mut calls = Vec::new();
        for (batch, members) in batches.values() {
            if members.len() == 1 {
                alone.push(members[0]);
                continue;
            }
            for chunk in members.chunks(batch.max) {
                calls.push(self.batched(shared, phase, batch, chunk, on_event));
            }
        }
        let mut results = Vec::new();
        let outcomes: Vec<BatchOutcome<'_>> = stream::iter(calls)
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<Result<_>>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        for (done, again) in outcomes {
            results.extend(done);
            alone.extend(again);
        }
        let mut runs = Vec::with_capacity(alone.len());
        for &(i, step) in &alone {
            runs.push(self.indexed_step(shared, phase, i, step, on_event));
        }
        let singles: Vec<(usize, StepResult)> = stream::iter(runs)
            .buffer_unordered(self.concurrency.max(1))
            .collect::<Vec<Result<_>>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        results.extend(singles);
        Ok(results)
    }

    async fn indexed_step(
        &self,
        shared: &Shared,
        phase: Phase,
        index: usize,
        step: &Step,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<(usize, StepResult)> {
        Ok((index, self.step(shared, phase, step, on_event).await?))
    }

    /// Runs the same step of several targets as one call. Answers each target's result, and
    /// the targets whose step must run on its own (the call failed, so no result was read
    /// from it). A read with an expected value is run again for the targets that do not show
    /// it yet, as [`Self::step`] does for one.
    async fn batched<'s>(
        &self,
        shared: &Shared,
        phase: Phase,
        batch: &Batch,
        members: &[TargetStep<'s>],
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<BatchOutcome<'s>> {
        let mut done = Vec::new();
        let mut remaining: Vec<(usize, &Step)> = members.to_vec();
        let deadline = Instant::now() + self.options.expect_timeout;
        let mut total = Duration::ZERO;
        let mut first = true;
        while !remaining.is_empty() {
            let values: Vec<&str> = remaining.iter().map(|(_, step)| batch.value(step)).collect();
            let call = batch.merged(remaining[0].1, &values);
            let captures = with(shared, |record| record.captures.clone());
            let Ok((argv, region, credentials)) = self.prepare(&captures, &call).await else {
                // Each target's own run says what is missing.
                return Ok((done, remaining));
            };
            let shown = self.shown(&argv);
            if first {
                for (_, step) in &remaining {
                    on_event(&ExecutionEvent::StepStarted {
                        phase,
                        step_id: step.step_id.clone(),
                        description: format!(
                            "{} ({} targets in one call)",
                            step.description,
                            remaining.len()
                        ),
                        argv: shown.clone(),
                    });
                }
                first = false;
            }
            let output = self.cli.run(&argv, &region, &credentials).await?;
            total += output.duration;
            let (excerpt, digest) = self.excerpt(&output);
            let refused = !output.succeeded() && !output.timed_out;
            let mut again = Vec::new();
            let mut retrying = Vec::new();
            for &(i, step) in &remaining {
                let result = if output.timed_out {
                    StepResult::Failed(output.stderr.clone(), true)
                } else if refused {
                    StepResult::Failed("the call for several targets was refused".into(), false)
                } else {
                    match batch.judge(batch.value(step), step.expect.as_deref(), &output.stdout) {
                        Ok(()) => StepResult::Succeeded,
                        Err(why) => StepResult::Failed(why, true),
                    }
                };
                let runs = self.record_run(
                    shared,
                    phase,
                    step,
                    &shown,
                    &output,
                    (&excerpt, &digest),
                    &result,
                )?;
                if refused {
                    again.push((i, step));
                    continue;
                }
                let read_again = matches!(result, StepResult::Failed(..))
                    && step.expect.is_some()
                    && Instant::now() + self.options.expect_interval < deadline;
                if read_again {
                    let observed = match &result {
                        StepResult::Failed(why, _) => why.clone(),
                        StepResult::Succeeded => String::new(),
                    };
                    on_event(&ExecutionEvent::StepRetrying {
                        phase,
                        step_id: step.step_id.clone(),
                        runs,
                        observed,
                    });
                    retrying.push((i, step));
                    continue;
                }
                let settled = (output.exit_code, total, excerpt.clone());
                self.settle(shared, phase, step, settled, &result, on_event)?;
                done.push((i, result));
            }
            if !again.is_empty() {
                return Ok((done, again));
            }
            if !retrying.is_empty() {
                tokio::time::sleep(self.options.expect_interval).await;
            }
            remaining = retrying;
        }
        Ok((done, Vec::new()))
    }

    /// Records, audits and announces one target's result.
    fn report(
        &self,
        record: &mut ExecutionRecord,
        report: &TargetReport,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<()> {
        record.targets.push(report.clone());
        self.store.save(record)?;
        self.audit.append(
            &record.id,
            AuditEvent::Target {
                target: report.target.clone(),
                result: report.result,
                message: report.message.clone(),
            },
        )?;
        on_event(&ExecutionEvent::TargetFinished {
            target: report.target.clone(),
            name: report.name.clone(),
            result: report.result,
            message: report.message.clone(),
        });
        Ok(())
    }

    async fn roll_back(
        &self,
        shared: &Shared,
        unit: &Unit,
        touched: bool,
        reason: &str,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<(TargetResult, String)> {
        if !touched {
            for step in &unit.rollback {
                self.skip(shared, Phase::Rollback, step, "nothing of it was changed", on_event)?;
            }
            return Ok((TargetResult::Failed, format!("{reason}; nothing of it was changed")));
        }
        if unit.rollback.is_empty() {
            return Ok((TargetResult::Failed, format!("{reason}; the playbook has no rollback")));
        }
        on_event(&ExecutionEvent::RollbackStarted { reason: reason.to_owned() });
        let mut failed: Option<String> = None;
        for step in &unit.rollback {
            if let Some(why) = &failed {
                let why = format!("an earlier rollback step failed: {why}");
                self.skip(shared, Phase::Rollback, step, &why, on_event)?;
                continue;
            }
            if let StepResult::Failed(why, _) =
                self.step(shared, Phase::Rollback, step, on_event).await?
            {
                failed = Some(format!("rollback step {} failed: {why}", step.step_id));
            }
        }
        Ok(match failed {
            Some(why) => (
                TargetResult::RollbackFailed,
                format!("{reason}; {why}: check the resources by hand"),
            ),
            None => (TargetResult::RolledBack, format!("{reason}; the rollback ran")),
        })
    }

    async fn verify(
        &self,
        shared: &Shared,
        unit: &Unit,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<(TargetResult, String)> {
        let mut failed: Option<String> = None;
        for step in &unit.verification {
            if let Some(why) = &failed {
                self.skip(shared, Phase::Verification, step, why, on_event)?;
                continue;
            }
            if let StepResult::Failed(why, _) =
                self.step(shared, Phase::Verification, step, on_event).await?
            {
                failed = Some(format!("verification step {} failed: {why}", step.step_id));
            }
        }
        Ok(verified(failed, unit.verification.is_empty()))
    }

    fn skip(
        &self,
        shared: &Shared,
        phase: Phase,
        step: &Step,
        reason: &str,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<()> {
        with(shared, |record| {
            if let Some(entry) = record.step_mut(phase, &step.step_id)
                && entry.status == StepStatus::Pending
            {
                entry.status = StepStatus::Skipped;
                on_event(&ExecutionEvent::StepSkipped {
                    phase,
                    step_id: step.step_id.clone(),
                    reason: reason.to_owned(),
                });
            }
        });
        Ok(())
    }

    /// Runs one step (re-running a verification step until it shows its expected value),
    /// records it, audits every run.
    async fn step(
        &self,
        shared: &Shared,
        phase: Phase,
        step: &Step,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<StepResult> {
        let captures = with(shared, |record| record.captures.clone());
        let prepared = self.prepare(&captures, step).await;
        let (argv, region, credentials) = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                let failed = StepResult::Failed(reason.clone(), false);
                with(shared, |record| self.finish(record, phase, step, None, 0, &failed))?;
                let digest = format!("blake3:{}", blake3::hash(b"").to_hex());
                let id = with(shared, |record| record.id.clone());
                self.audit_command(
                    &id,
                    phase,
                    step,
                    &[],
                    None,
                    0,
                    ("", &digest),
                    Some(reason.clone()),
                )?;
                on_event(&ExecutionEvent::StepFinished {
                    phase,
                    step_id: step.step_id.clone(),
                    succeeded: false,
                    exit_code: None,
                    duration_ms: 0,
                    output: reason.clone(),
                });
                return Ok(failed);
            }
        };
        let shown = self.shown(&argv);
        on_event(&ExecutionEvent::StepStarted {
            phase,
            step_id: step.step_id.clone(),
            description: step.description.clone(),
            argv: shown.clone(),
        });
        let deadline = Instant::now() + self.options.expect_timeout;
        let mut total = Duration::ZERO;
        loop {
            let output = self.cli.run(&argv, &region, &credentials).await?;
            total += output.duration;
            let (excerpt, digest) = self.excerpt(&output);
            let result = with(shared, |record| self.judge(record, step, &output));
            let retry = matches!(&result, StepResult::Failed(..))
                && output.succeeded()
                && step.expect.is_some()
                && Instant::now() + self.options.expect_interval < deadline;
            let runs = self.record_run(
                shared,
                phase,
                step,
                &shown,
                &output,
                (&excerpt, &digest),
                &result,
            )?;
            if retry {
                on_event(&ExecutionEvent::StepRetrying {
                    phase,
                    step_id: step.step_id.clone(),
                    runs,
                    observed: excerpt.trim().to_owned(),
                });
                tokio::time::sleep(self.options.expect_interval).await;
                continue;
            }
            self.settle(
                shared,
                phase,
                step,
                (output.exit_code, total, excerpt),
                &result,
                on_event,
            )?;
            return Ok(result);
        }
    }

    /// The command as shown and audited: `aws` and the arguments, redacted.
    fn shown(&self, argv: &[String]) -> Vec<String> {
        std::iter::once("aws".to_owned())
            .chain(argv.iter().map(|a| self.redactor.redact(a)))
            .collect()
    }

    /// Audits one run of `step` (`shown` is the command as run, perhaps for several targets)
    /// and counts it in the record; answers the runs so far.
    #[allow(clippy::too_many_arguments)]
    fn record_run(
        &self,
        shared: &Shared,
        phase: Phase,
        step: &Step,
        shown: &[String],
        output: &CommandOutput,
        (excerpt, digest): (&str, &str),
        result: &StepResult,
    ) -> Result<u32> {
        let error = match result {
            StepResult::Failed(reason, _) => Some(reason.clone()),
            StepResult::Succeeded => None,
        };
        let id = with(shared, |record| record.id.clone());
        self.audit_command(
            &id,
            phase,
            step,
            shown,
            output.exit_code,
            output.duration.as_millis() as u64,
            (excerpt, digest),
            error,
        )?;
        Ok(with(shared, |record| {
            record.step_mut(phase, &step.step_id).map_or(0, |entry| {
                entry.runs += 1;
                entry.runs
            })
        }))
    }

    /// Records how `step` ended (its last exit code, the time of all its runs, the output
    /// shown) and announces it.
    fn settle(
        &self,
        shared: &Shared,
        phase: Phase,
        step: &Step,
        (exit_code, total, output): (Option<i32>, Duration, String),
        result: &StepResult,
        on_event: &(dyn Fn(&ExecutionEvent) + Send + Sync),
    ) -> Result<()> {
        let duration_ms = total.as_millis() as u64;
        with(shared, |record| self.finish(record, phase, step, exit_code, duration_ms, result))?;
        on_event(&ExecutionEvent::StepFinished {
            phase,
            step_id: step.step_id.clone(),
            succeeded: matches!(result, StepResult::Succeeded),
            exit_code,
            duration_ms,
            output,
        });
        Ok(())
    }

    /// The argument vector with captured values filled in, the region and fresh credentials.
    async fn prepare(
        &self,
        captures: &BTreeMap<String, String>,
        step: &Step,
    ) -> std::result::Result<(Vec<String>, String, SessionCredentials), String> {
        let mut args = Vec::with_capacity(step.args.len());
        for arg in &step.args {
            args.push(fill_captures(arg, captures)?);
        }
        let region = args
            .windows(2)
            .find(|pair| pair[0] == "--region")
            .map(|pair| pair[1].clone())
            .ok_or_else(|| "the step names no region".to_owned())?;
        let account = step.account_id.as_deref().ok_or("the step names no account")?;
        let source = self
            .credentials
            .get(account)
            .ok_or_else(|| format!("no credentials for account {account}"))?;
        let credentials = source.session().await.map_err(|e| e.to_string())?;
        self.redactor.add(&credentials);
        let argv = self.cli.argv(&step.command, &args).map_err(|e| e.to_string())?;
        Ok((argv, region, credentials))
    }

    /// Whether the output is a success: exit code 0, the expected value, the captures found.
    fn judge(
        &self,
        record: &mut ExecutionRecord,
        step: &Step,
        output: &CommandOutput,
    ) -> StepResult {
        if output.timed_out {
            return StepResult::Failed(output.stderr.clone(), true);
        }
        if !output.succeeded() {
            let first = self.redactor.redact(output.stderr.trim());
            let first: String = first.chars().take(500).collect();
            // The AWS CLI exits non-zero when the API refused the call: nothing changed.
            // Without an exit code (killed), it may have.
            return StepResult::Failed(
                format!(
                    "exit code {}: {first}",
                    output.exit_code.map_or("none".to_owned(), |c| c.to_string())
                ),
                output.exit_code.is_none(),
            );
        }
        if let Some(expected) = &step.expect {
            let observed = output.stdout.trim();
            if observed != expected.trim() {
                let observed: String = self.redactor.redact(observed).chars().take(200).collect();
                return StepResult::Failed(
                    format!("expected {expected:?}, observed {observed:?}"),
                    true,
                );
            }
        }
        if !step.capture.is_empty() {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&output.stdout) else {
                return StepResult::Failed(
                    "the output is not JSON, so nothing can be captured".into(),
                    true,
                );
            };
            for (name, expression) in &step.capture {
                let value =
                    CapturePath::parse(expression).ok().and_then(|path| path.evaluate(&json));
                match value {
                    Some(value) => {
                        record.captures.insert(format!("{}.{name}", step.step_id), value);
                    }
                    None => {
                        return StepResult::Failed(
                            format!("the output has no {expression} to capture as {name}"),
                            true,
                        );
                    }
                }
            }
        }
        StepResult::Succeeded
    }

    fn finish(
        &self,
        record: &mut ExecutionRecord,
        phase: Phase,
        step: &Step,
        exit_code: Option<i32>,
        duration_ms: u64,
        result: &StepResult,
    ) -> Result<()> {
        if let Some(entry) = record.step_mut(phase, &step.step_id) {
            entry.status = match result {
                StepResult::Succeeded => StepStatus::Succeeded,
                StepResult::Failed(..) => StepStatus::Failed,
            };
            entry.exit_code = exit_code;
            entry.duration_ms = duration_ms;
        }
        self.store.save(record)
    }

    #[allow(clippy::too_many_arguments)]
    fn audit_command(
        &self,
        execution_id: &str,
        phase: Phase,
        step: &Step,
        argv: &[String],
        exit_code: Option<i32>,
        duration_ms: u64,
        (output, digest): (&str, &str),
        error: Option<String>,
    ) -> Result<()> {
        self.audit.append(
            execution_id,
            AuditEvent::Command {
                phase,
                step_id: step.step_id.clone(),
                argv: argv.to_vec(),
                account_id: step.account_id.clone(),
                exit_code,
                duration_ms,
                output_digest: digest.to_owned(),
                output: output.to_owned(),
                error: error.map(|e| self.redactor.redact(&e)),
            },
        )?;
        Ok(())
    }

    /// The output worth showing — standard output on success, else standard error (and
    /// output) — redacted and shortened, and the BLAKE3 digest of the whole redacted
    /// standard output and error.
    fn excerpt(&self, output: &CommandOutput) -> (String, String) {
        let text = if output.succeeded() {
            output.stdout.clone()
        } else {
            format!("{}{}", output.stderr, output.stdout)
        };
        let text = self.redactor.redact(&text);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if excerpt.len() < text.len() {
            excerpt.push_str(" …");
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.redactor.redact(&output.stdout).as_bytes());
        hasher.update(self.redactor.redact(&output.stderr).as_bytes());
        (excerpt, format!("blake3:{}", hasher.finalize().to_hex()))
    }
}

/// A target's result once its script succeeded: ok, or failed with the verification step
/// that failed.
fn verified(failed: Option<String>, nothing_to_verify: bool) -> (TargetResult, String) {
    match failed {
        Some(why) => (TargetResult::Failed, format!("the commands ran, but {why}")),
        None if nothing_to_verify => (TargetResult::Ok, "every step succeeded".to_owned()),
        None => (TargetResult::Ok, "every step succeeded and the result is verified".to_owned()),
    }
}

/// Whether the targets are run in step, with shared calls: there are several, with the
/// same number of steps, and some step of theirs can share a call ([`crate::batch`]).
fn batches(units: &[Unit]) -> bool {
    let Some(first) = units.first() else {
        return false;
    };
    let same_shape = units.iter().all(|unit| {
        unit.script.len() == first.script.len()
            && unit.verification.len() == first.verification.len()
    });
    let shares_a_call = |steps: fn(&Unit) -> &[Step]| {
        (0..steps(first).len()).any(|at| {
            let mut keys =
                units.iter().filter_map(|unit| batch_of(&steps(unit)[at]).map(|b| b.key));
            let mut seen = std::collections::BTreeSet::new();
            keys.any(|key| !seen.insert(key))
        })
    };
    units.len() > 1
        && same_shape
        && (shares_a_call(|unit: &Unit| unit.script.as_slice())
            || shares_a_call(|unit: &Unit| unit.verification.as_slice()))
}

/// How one target's result reads as an execution's outcome.
fn unit_outcome(result: TargetResult) -> Outcome {
    match result {
        TargetResult::Ok | TargetResult::Skipped => Outcome::Succeeded,
        TargetResult::Failed => Outcome::Failed,
        TargetResult::RolledBack => Outcome::RolledBack,
        TargetResult::RollbackFailed => Outcome::RollbackFailed,
    }
}

/// A fleet's outcome from its targets' results: succeeded when every target acted on is
/// ok; rollback failed when any target's rollback failed (it needs a person); partial when
/// some are ok; else the worst of the others.
fn fleet_outcome(targets: &[TargetReport]) -> (Outcome, String) {
    let count = |result: TargetResult| targets.iter().filter(|t| t.result == result).count();
    let (ok, skipped) = (count(TargetResult::Ok), count(TargetResult::Skipped));
    let acted = targets.len() - skipped;
    let mut parts = vec![format!("{ok} of the {acted} targets acted on succeeded")];
    for (result, label) in [
        (TargetResult::Failed, "failed"),
        (TargetResult::RolledBack, "rolled back"),
        (TargetResult::RollbackFailed, "rollback failed (check by hand)"),
        (TargetResult::Skipped, "skipped (wrong state)"),
    ] {
        let n = count(result);
        if n > 0 {
            let names: Vec<&str> = targets
                .iter()
                .filter(|t| t.result == result)
                .take(5)
                .map(|t| t.name.as_str())
                .collect();
            let more = if n > names.len() {
                format!(" and {} more", n - names.len())
            } else {
                String::new()
            };
            parts.push(format!("{n} {label}: {}{more}", names.join(", ")));
        }
    }
    let outcome = if count(TargetResult::RollbackFailed) > 0 {
        Outcome::RollbackFailed
    } else if ok == acted {
        Outcome::Succeeded
    } else if ok > 0 {
        Outcome::Partial
    } else if count(TargetResult::Failed) > 0 {
        Outcome::Failed
    } else {
        Outcome::RolledBack
    };
    (outcome, parts.join("; "))
}

/// `arg` with every `{{ steps.<id>.<name> }}` replaced by the captured value.
fn fill_captures(
    arg: &str,
    captures: &BTreeMap<String, String>,
) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed {{{{ in {arg:?}"))?;
        let name = after[..end].trim();
        let key = name
            .strip_prefix("steps.")
            .ok_or_else(|| format!("{name:?} is not a captured value"))?;
        let value = captures.get(key).ok_or_else(|| {
            format!("no captured value {key} (its step did not run or capture it)")
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_captured_values() {
        let captures = BTreeMap::from([("1.image_id".to_owned(), "ami-123".to_owned())]);
        assert_eq!(fill_captures("{{ steps.1.image_id }}", &captures).as_deref(), Ok("ami-123"));
        assert_eq!(
            fill_captures("Name=x,Values={{steps.1.image_id}}", &captures).as_deref(),
            Ok("Name=x,Values=ami-123")
        );
        assert_eq!(fill_captures("plain", &captures).as_deref(), Ok("plain"));
        assert!(fill_captures("{{ steps.2.image_id }}", &captures).is_err());
        assert!(fill_captures("{{ id }}", &captures).is_err());
        assert!(fill_captures("{{ steps.1.image_id", &captures).is_err());
    }
}
