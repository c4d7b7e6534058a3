//! The change report: what an edit or an apply did at each target of a zone. Every way in
//! returns one, and renders it in its own protocol — lines on a terminal, the JSON below,
//! an HTTP status, a dyndns2 word, an RFC 2136 rcode — and `serve`'s metrics are fed from
//! it.
//!
//! Its JSON form (`--output json` of every command that changes something) is versioned
//! ([`Document`]) and described by `docs/change-report.schema.json`:
//!
//! ```json
//! {"version": 1, "ok": true, "zones": [{"zone": "example.com.", "ok": true, "targets": [{
//!    "provider": "lua", "status": "done", "whole_zone": false,
//!    "summary": {"create": 1, "update": 0, "delete": 0},
//!    "changes": [{"name": "www.example.com.", "type": "A", "action": "create",
//!                 "before": null, "after": {"ttl": 300, "data": ["192.0.2.1"]}}],
//!    "operations": [{"operation": "create www.example.com. 300 IN A 192.0.2.1",
//!                    "outcome": "done", "error": null}],
//!    "requests": 2, "waits": [], "backup": null, "notes": [], "error": null}]}]}
//! ```

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Error;
use crate::meter::{Counts, Wait};
use crate::name::Name;
use crate::plan::{Plan, SetChange, Summary};
use crate::provider::Outcome;

/// The version of the JSON form; a change that breaks a reader bumps it.
pub const VERSION: u32 = 1;

/// What happened to one zone, target by target.
#[derive(Debug)]
pub struct ChangeReport {
    /// The zone.
    pub zone: Name,
    /// One report per target, in the route's order.
    pub targets: Vec<TargetReport>,
}

/// What happened at one target.
#[derive(Debug)]
pub struct TargetReport {
    /// The provider instance.
    pub provider: String,
    /// The plan made for it; none when it could not be read.
    pub plan: Option<Plan>,
    /// One outcome per operation of the plan, once applied; empty before.
    pub outcomes: Vec<Outcome>,
    /// Why the target could not be read, or the apply could not start.
    pub error: Option<Error>,
    /// Requests and rate-limit waits at the provider, reads included.
    pub counts: Counts,
    /// The backup of what the target held before the first change.
    pub backup: Option<PathBuf>,
    /// What the user should know beyond the plan's own notes.
    pub notes: Vec<String>,
    /// What the target held when read, where the transaction asked (a plan to save).
    pub read_digest: Option<crate::saved::ReadDigest>,
}

/// How a target fared, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Planned, not applied (a dry run).
    Planned,
    /// Nothing to change.
    Unchanged,
    /// Every change made.
    Done,
    /// Some changes were not made, none failed: they were not sent (the provider's rate
    /// limit, an interruption); running again finishes.
    Incomplete,
    /// A change was sent and its answer lost: it may or may not have been made.
    Unknown,
    /// A change was refused, or the target could not be read.
    Failed,
}

impl Status {
    /// Whether the target holds what was asked (or was only planned).
    pub fn is_ok(self) -> bool {
        matches!(self, Status::Planned | Status::Unchanged | Status::Done)
    }
}

impl TargetReport {
    /// A target whose plan is made, not yet applied.
    pub fn planned(provider: String, plan: Plan, counts: Counts) -> TargetReport {
        TargetReport {
            provider,
            plan: Some(plan),
            outcomes: Vec::new(),
            error: None,
            counts,
            backup: None,
            notes: Vec::new(),
            read_digest: None,
        }
    }

    /// A target that could not be read.
    pub fn unreadable(provider: String, error: Error, counts: Counts) -> TargetReport {
        TargetReport {
            provider,
            plan: None,
            outcomes: Vec::new(),
            error: Some(error),
            counts,
            backup: None,
            notes: Vec::new(),
            read_digest: None,
        }
    }

    /// How it fared.
    pub fn status(&self) -> Status {
        let Some(plan) = &self.plan else { return Status::Failed };
        if plan.is_empty() {
            return Status::Unchanged;
        }
        if self.outcomes.is_empty() {
            return if self.error.is_some() { Status::Failed } else { Status::Planned };
        }
        let any = |f: fn(&Outcome) -> bool| self.outcomes.iter().any(f);
        if any(|o| matches!(o, Outcome::Failed(_))) {
            Status::Failed
        } else if any(|o| matches!(o, Outcome::Unknown(_))) {
            Status::Unknown
        } else if any(|o| matches!(o, Outcome::NotAttempted)) {
            Status::Incomplete
        } else {
            Status::Done
        }
    }

    /// The first error met: why it could not be read, or the first change's that failed.
    pub fn first_error(&self) -> Option<&Error> {
        self.error.as_ref().or_else(|| self.outcomes.iter().find_map(Outcome::error))
    }

    /// The requests sent to this target.
    pub fn requests(&self) -> u64 {
        self.counts.requests_to(&self.provider)
    }

    /// The waits for this target's rate limit.
    pub fn waits(&self) -> impl Iterator<Item = &Wait> {
        self.counts.waits_at(&self.provider)
    }

    /// The operations made at the provider.
    pub fn done(&self) -> usize {
        self.outcomes.iter().filter(|o| matches!(o, Outcome::Done)).count()
    }
}

impl ChangeReport {
    /// Whether every target holds what was asked.
    pub fn is_ok(&self) -> bool {
        self.targets.iter().all(|t| t.status().is_ok())
    }

    /// Whether any target changed.
    pub fn changed(&self) -> bool {
        self.targets.iter().any(|t| t.done() > 0)
    }

    /// The first error met at any target.
    pub fn first_error(&self) -> Option<&Error> {
        self.targets.iter().find_map(TargetReport::first_error)
    }
}

/// The document one command prints for `--output json`: its reports, in the documented
/// shape (`serde_json::to_string(&Document(&reports))`).
#[derive(Debug, Clone, Copy)]
pub struct Document<'a>(pub &'a [ChangeReport]);

impl Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Doc<'a> {
            version: u32,
            ok: bool,
            zones: &'a [ChangeReport],
        }
        Doc { version: VERSION, ok: self.0.iter().all(ChangeReport::is_ok), zones: self.0 }.serialize(s)
    }
}

impl Serialize for ChangeReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Zone<'a> {
            zone: &'a Name,
            ok: bool,
            targets: &'a [TargetReport],
        }
        Zone { zone: &self.zone, ok: self.is_ok(), targets: &self.targets }.serialize(s)
    }
}

/// One operation as the JSON form shows it.
#[derive(Serialize)]
struct Operation {
    operation: String,
    outcome: &'static str,
    error: Option<String>,
}

/// One wait as the JSON form shows it.
#[derive(Serialize)]
struct WaitJson<'a> {
    seconds: f64,
    reason: &'a str,
}

impl Serialize for TargetReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Target<'a> {
            provider: &'a str,
            status: Status,
            whole_zone: bool,
            summary: Summary,
            changes: &'a [SetChange],
            operations: Vec<Operation>,
            requests: u64,
            waits: Vec<WaitJson<'a>>,
            backup: Option<&'a PathBuf>,
            notes: Vec<&'a str>,
            error: Option<String>,
        }
        let plan = self.plan.as_ref();
        let operations = plan
            .map(|p| p.operations.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, change)| {
                let (outcome, error) = match self.outcomes.get(i) {
                    None => ("planned", None),
                    Some(Outcome::Done) => ("done", None),
                    Some(Outcome::Failed(e)) => ("failed", Some(e.to_string())),
                    Some(Outcome::Unknown(e)) => ("unknown", Some(e.to_string())),
                    Some(Outcome::NotAttempted) => ("not_attempted", None),
                };
                Operation { operation: change.to_string(), outcome, error }
            })
            .collect();
        let mut notes: Vec<&str> = plan.map(|p| p.notes.iter().map(String::as_str).collect()).unwrap_or_default();
        notes.extend(self.notes.iter().map(String::as_str));
        Target {
            provider: &self.provider,
            status: self.status(),
            whole_zone: plan.is_some_and(|p| !p.is_partial()),
            summary: plan.map(|p| p.summary).unwrap_or_default(),
            changes: plan.map_or(&[], |p| p.changes.as_slice()),
            operations,
            requests: self.requests(),
            waits: self.waits().map(|w| WaitJson { seconds: w.duration.as_secs_f64(), reason: &w.reason }).collect(),
            backup: self.backup.as_ref(),
            notes,
            error: self.error.as_ref().map(ToString::to_string),
        }
        .serialize(s)
    }
}
