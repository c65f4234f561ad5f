//! The client's check of a plan from a planning server it does not trust to run commands on
//! the operator's machine: the plan must be exactly what the client's own copy of the
//! playbook renders for the client's own request, with only the timestamp left to the
//! server, and its risk is never taken lower than the client's own assessment.
//!
//! The playbook is rendered again here with a marker in place of the timestamp, and the
//! plan is compared with that rendering step by step and argument by argument. Where they
//! differ, the difference is classified, so the operator reads "step 1 acts on db-other,
//! which is not an identified resource" rather than "argument 2 differs".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cloudops_core::{
    EnrichedRequest, IdentifiedResource, PlanResponse, RiskAssessment, RiskLevel, Script, Step,
};

use crate::library::{Library, LoadedPlaybook};
use crate::render::{RenderInput, render};
use crate::schema::Playbook;

/// Stands for the timestamp in the local rendering. Resource and operator values never
/// carry control characters (the renderer refuses them), so the marker cannot come from
/// anywhere else.
const SENTINEL: &str = "\u{0}timestamp\u{0}";

/// The timestamp is `YYYYMMDDHHMM`.
const TIMESTAMP_DIGITS: usize = 12;

/// How the timestamp is shown in reasons.
const TIMESTAMP_SHOWN: &str = "YYYYMMDDHHMM";

/// At most this many differences are listed, then counted: a plan rewritten from end to end
/// needs no more.
const MAX_REASONS: usize = 20;

/// Untrusted text is quoted back at most this long.
const MAX_SHOWN_CHARS: usize = 80;

/// Characters a shell would interpret, and that no argument the library renders carries
/// outside its own fixed text.
const SHELL_METACHARACTERS: &[char] =
    &[';', '|', '&', '$', '`', '<', '>', '(', ')', '{', '}', '\\', '\'', '"', '!', '*', '?', '~'];

/// A plan the client may show the operator and run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The client's own copy of the playbook the plan was built from.
    pub playbook: LoadedPlaybook,
    /// The risk: the client's own assessment, unless the server's is higher.
    pub risk: RiskAssessment,
    /// Whether the operator must approve: when either the client or the server says so.
    pub approval_required: bool,
    /// Whether approval must name the resource (the playbook is destructive, or the risk
    /// is critical): `--yes` alone is not enough.
    pub destructive: bool,
}

/// Why a plan was refused, one specific reason per entry, written for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong with the plan.
    pub reasons: Vec<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reasons.join("; "))
    }
}

impl std::error::Error for Refusal {}

/// Checks `plan`, received for `request`, against the client's `library`: the playbook it
/// names must be the client's, at the same version, and every step of its script, rollback
/// and verification must be what that playbook renders for `request`, except for the
/// timestamp (12 digits, the same throughout the plan). The request itself must be an
/// action by the client's own [`cloudops_core::classify`]: a question, a negated or
/// hypothetical request, or anything else is refused whatever plan came back. Nothing in
/// `plan` is trusted; no input makes this panic.
pub fn verify_plan(
    library: &Library,
    request: &EnrichedRequest,
    plan: &PlanResponse,
) -> Result<Verified, Refusal> {
    let refuse = |reasons: Vec<String>| Err(Refusal { reasons });
    // Only an action may be run, whatever the server says the request was.
    let classification = cloudops_core::classify(&request.prompt);
    if !classification.is_action() {
        return refuse(vec![format!(
            "this client reads the request as {}, not as a request for a change, so no plan for it may run{}",
            classification.class.as_str().replace('_', " "),
            if classification.cues.is_empty() {
                String::new()
            } else {
                format!(" (because of {})", printable(&classification.cues.join(", ")))
            }
        )]);
    }
    let mut reasons = Vec::new();
    if !plan.executable {
        reasons.push(format!(
            "the server says the plan cannot be executed: {}",
            printable(&plan.explain_plan)
        ));
    }
    if plan.script.steps.is_empty() {
        reasons.push("the plan has no steps to run".to_owned());
    }
    let Some(reference) = &plan.playbook else {
        reasons.push(
            "the plan names no playbook, so this client cannot check where its commands come from"
                .to_owned(),
        );
        return refuse(reasons);
    };
    let Some(loaded) = library.get(&reference.id) else {
        reasons.push(format!(
            "the server used playbook {}, which this client's library does not have; update the client's library",
            shown(&reference.id)
        ));
        return refuse(reasons);
    };
    let playbook = &loaded.playbook;
    if reference.version != playbook.version {
        reasons.push(format!(
            "the server used playbook {} version {}, this client has {}; update the client's library (or the server's) so they agree",
            playbook.id,
            shown(&reference.version),
            playbook.version
        ));
    }
    if !reasons.is_empty() {
        return refuse(reasons);
    }

    let resources = &request.identified_resources;
    if resources.is_empty() {
        return refuse(vec!["the request identifies no resource for the plan to act on".into()]);
    }
    for (position, resource) in resources.iter().enumerate() {
        let kind = resource.resource_type.as_str();
        if !playbook.resource_types.iter().any(|covered| covered == kind) {
            reasons.push(format!(
                "identified resource {} is of type {}, which playbook {} does not cover (it covers {})",
                shown(resource.identifier().unwrap_or("?")),
                shown(kind),
                playbook.id,
                playbook.resource_types.join(", ")
            ));
        }
        // The renderer copies these into every step unchecked; the marker must not hide in
        // them.
        if resource.region.chars().any(char::is_control)
            || resource.account_id.chars().any(char::is_control)
        {
            reasons.push(format!(
                "identified resource {} has control characters in its region or account id",
                position + 1
            ));
        }
    }
    if !reasons.is_empty() {
        return refuse(reasons);
    }

    let local = render(
        playbook,
        resources,
        &RenderInput {
            prompt: &request.prompt,
            parameters: &request.parameters,
            timestamp: SENTINEL,
        },
    );
    if !local.blockers.is_empty() {
        return refuse(vec![format!(
            "this client would not run playbook {} for these resources: {}",
            playbook.id,
            printable(&local.blockers.join("; "))
        )]);
    }
    let mut check = Check::new(playbook, resources);
    check.scripts("step", &local.script, &plan.script);
    check.scripts("rollback step", &local.rollback, &plan.rollback);
    check.scripts("verification step", &local.verification, &plan.verification);
    if plan.skipped != local.skipped {
        let names = |skipped: &[cloudops_core::SkippedTarget]| -> String {
            if skipped.is_empty() {
                "none".to_owned()
            } else {
                skipped.iter().map(|s| printable(&s.name)).collect::<Vec<_>>().join(", ")
            }
        };
        check.fail(format!(
            "the plan leaves out {} where playbook {} leaves out {} (in the wrong state)",
            names(&plan.skipped),
            playbook.id,
            names(&local.skipped)
        ));
    }
    if !check.reasons.is_empty() {
        let mut reasons = check.reasons;
        if check.more > 0 {
            reasons.push(format!("and {} more differences", check.more));
        }
        return refuse(reasons);
    }

    let server = &plan.risk_assessment;
    let risk = if local.risk.level >= server.level {
        local.risk.clone()
    } else {
        RiskAssessment {
            level: server.level,
            reasons: server.reasons.iter().take(MAX_REASONS).map(|r| printable(r)).collect(),
            impact: printable(&server.impact),
        }
    };
    Ok(Verified {
        playbook: loaded.clone(),
        risk,
        approval_required: local.approval_required || plan.approval_required,
        destructive: playbook.destructive || local.risk.level == RiskLevel::Critical,
    })
}

/// The comparison of a plan with the local rendering, collecting reasons.
struct Check<'a> {
    playbook: &'a Playbook,
    /// What may appear where the local rendering names a resource.
    identifiers: BTreeSet<&'a str>,
    regions: BTreeSet<&'a str>,
    accounts: BTreeSet<&'a str>,
    /// The plan's timestamp, once seen.
    timestamp: Option<String>,
    /// The first [`MAX_REASONS`] reasons.
    reasons: Vec<String>,
    /// How many more there were.
    more: usize,
}

impl<'a> Check<'a> {
    fn new(playbook: &'a Playbook, resources: &'a [IdentifiedResource]) -> Self {
        let mut identifiers = BTreeSet::new();
        for resource in resources {
            let names = [resource.identifier(), resource.name.as_deref(), resource.arn.as_deref()];
            identifiers.extend(names.into_iter().flatten().filter(|name| !name.is_empty()));
        }
        Check {
            playbook,
            identifiers,
            regions: resources.iter().map(|r| r.region.as_str()).collect(),
            accounts: resources.iter().map(|r| r.account_id.as_str()).collect(),
            timestamp: None,
            reasons: Vec::new(),
            more: 0,
        }
    }

    fn fail(&mut self, reason: String) {
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(reason);
        } else {
            self.more += 1;
        }
    }

    fn scripts(&mut self, label: &str, local: &Script, plan: &Script) {
        for (position, (ours, theirs)) in local.steps.iter().zip(&plan.steps).enumerate() {
            self.step(&format!("{label} {}", position + 1), ours, theirs);
        }
        // A reason for each of the first extra steps; a flood of them is summed up.
        const MAX_EXTRA_LISTED: usize = 3;
        let extra = plan.steps.iter().enumerate().skip(local.steps.len());
        for (position, theirs) in extra.clone().take(MAX_EXTRA_LISTED) {
            self.fail(format!(
                "{label} {} is an extra command the playbook does not produce ({})",
                position + 1,
                command_shown(&theirs.command)
            ));
        }
        if let Some(from) = extra.clone().nth(MAX_EXTRA_LISTED).map(|(position, _)| position + 1) {
            self.fail(format!(
                "{label}s {from} to {} are extra commands the playbook does not produce",
                plan.steps.len()
            ));
        }
        for (position, ours) in local.steps.iter().enumerate().skip(plan.steps.len()) {
            self.fail(format!(
                "the plan leaves out {label} {} of playbook {} (`{}`)",
                position + 1,
                self.playbook.id,
                ours.command
            ));
        }
    }

    fn step(&mut self, name: &str, ours: &Step, theirs: &Step) {
        let playbook = &self.playbook.id;
        if theirs.command != ours.command {
            let reason = self.command(name, &theirs.command, &ours.command);
            self.fail(reason);
            // The arguments of another command say nothing more.
            return;
        }
        if theirs.step_id != ours.step_id {
            self.fail(format!(
                "{name} has the id {} where playbook {playbook} has {}; captured values are found by step id",
                shown(&theirs.step_id),
                ours.step_id
            ));
        }
        if theirs.account_id != ours.account_id {
            let expected = ours.account_id.as_deref().unwrap_or("?");
            let reason = match theirs.account_id.as_deref() {
                None => format!(
                    "{name} does not say whose credentials run it; playbook {playbook} runs it in account {expected}"
                ),
                Some(account) if !self.accounts.contains(account) => format!(
                    "{name} runs in account {}, to which no identified resource belongs",
                    shown(account)
                ),
                Some(account) => format!(
                    "{name} runs in account {account}, but playbook {playbook} runs it in account {expected}, its resource's"
                ),
            };
            self.fail(reason);
        }
        if theirs.target != ours.target {
            let shown_target = |target: &Option<String>| {
                target.as_deref().map_or_else(|| "no target".to_owned(), shown)
            };
            self.fail(format!(
                "{name} names {} as its target where playbook {playbook} names {}; results and rollback are per target",
                shown_target(&theirs.target),
                shown_target(&ours.target)
            ));
        }
        self.arguments(name, &ours.args, &theirs.args);
        if theirs.capture != ours.capture {
            self.fail(format!(
                "{name} captures {} where playbook {playbook} captures {}",
                captures_shown(&theirs.capture),
                captures_shown(&ours.capture)
            ));
        }
        if theirs.expect != ours.expect {
            let expect = |value: &Option<String>| match value {
                Some(text) => shown(text),
                None => "nothing".to_owned(),
            };
            self.fail(format!(
                "{name} expects {} where playbook {playbook} expects {}",
                expect(&theirs.expect),
                expect(&ours.expect)
            ));
        }
    }

    /// Why the plan's `command` is not the local one.
    fn command(&self, name: &str, theirs: &str, ours: &str) -> String {
        let playbook = self.playbook;
        let words: Vec<&str> = theirs.split(' ').collect();
        let well_formed = words.iter().all(|word| {
            !word.is_empty()
                && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        let cli_words = match words.as_slice() {
            ["aws", group, "wait", waiter] => Some((*group, format!("wait {waiter}"))),
            ["aws", group, operation] => Some((*group, (*operation).to_owned())),
            _ => None,
        };
        let Some((group, operation)) = cli_words.filter(|_| well_formed) else {
            return format!("{name} is not an AWS CLI command: {}", shown(theirs));
        };
        if !playbook.service.cli_groups().contains(&group) {
            return format!(
                "{name} runs `{theirs}`, a command of another service than playbook {}'s ({})",
                playbook.id,
                playbook.service.as_str()
            );
        }
        let allowed = playbook
            .steps
            .iter()
            .chain(&playbook.rollback)
            .chain(&playbook.verification)
            .any(|step| step.command == format!("{group} {operation}"));
        if !allowed {
            return format!(
                "{name} runs `{theirs}`, which playbook {} does not allow",
                playbook.id
            );
        }
        format!("{name} runs `{theirs}` where playbook {} runs `{ours}`", playbook.id)
    }

    fn arguments(&mut self, name: &str, ours: &[String], theirs: &[String]) {
        let mut first_difference = None;
        for position in 0..ours.len().min(theirs.len()) {
            let context = Context {
                name,
                number: position + 1,
                previous_ours: position.checked_sub(1).and_then(|p| ours.get(p)),
                previous_theirs: position.checked_sub(1).and_then(|p| theirs.get(p)),
            };
            let (Some(our), Some(their)) = (ours.get(position), theirs.get(position)) else {
                break;
            };
            if let Some(reason) = self.argument(&context, our, their) {
                self.fail(reason);
                if ours.len() != theirs.len() {
                    // Past an insertion or removal the positions no longer correspond.
                    first_difference = Some(position);
                    break;
                }
            }
        }
        if ours.len() == theirs.len() {
            return;
        }
        // What the arguments past the first difference (or the end of the shorter list)
        // carry that is dangerous in itself.
        let from = first_difference.map_or(ours.len().min(theirs.len()), |p| p + 1);
        for position in from..theirs.len() {
            let Some(their) = theirs.get(position) else { break };
            let context = Context {
                name,
                number: position + 1,
                previous_ours: None,
                previous_theirs: position.checked_sub(1).and_then(|p| theirs.get(p)),
            };
            if let Some(reason) = self.dangerous(&context, their) {
                self.fail(reason);
            }
        }
        let extra: Vec<String> = theirs.iter().skip(ours.len()).map(|arg| shown(arg)).collect();
        if first_difference.is_none() && !extra.is_empty() {
            const MAX_LISTED: usize = 5;
            let more = if extra.len() > MAX_LISTED { " …" } else { "" };
            self.fail(format!(
                "{name} has extra arguments that playbook {} does not produce: {}{more}",
                self.playbook.id,
                extra[..extra.len().min(MAX_LISTED)].join(" ")
            ));
        } else {
            self.fail(format!(
                "{name} has {} arguments where playbook {} produces {}",
                theirs.len(),
                self.playbook.id,
                ours.len()
            ));
        }
    }

    /// Why the plan's argument `theirs` is not the local `ours`, or `None` when it is.
    fn argument(&mut self, at: &Context<'_>, ours: &str, theirs: &str) -> Option<String> {
        let Context { name, number, .. } = *at;
        if ours.contains(SENTINEL) {
            match match_timestamp(ours, theirs) {
                Some(timestamp) => match &self.timestamp {
                    None => {
                        self.timestamp = Some(timestamp);
                        return None;
                    }
                    Some(earlier) if *earlier == timestamp => return None,
                    Some(earlier) => {
                        return Some(format!(
                            "{name} uses the timestamp {timestamp} in argument {number} where the plan used {earlier} before; a plan has one timestamp"
                        ));
                    }
                },
                None => return Some(self.timestamp_difference(at, ours, theirs)),
            }
        }
        if ours == theirs {
            return None;
        }
        if let Some(reason) = self.dangerous(at, theirs) {
            return Some(reason);
        }
        if at.previous_ours.is_some_and(|p| p == "--region") {
            return Some(format!(
                "{name} targets region {} where playbook {} targets {ours}, its resource's region",
                shown(theirs),
                self.playbook.id
            ));
        }
        if theirs.starts_with('-') && !ours.starts_with('-') {
            return Some(format!(
                "{name} passes the option {} as argument {number}, where playbook {} has the value {}",
                shown(theirs),
                self.playbook.id,
                shown(&local_shown(ours))
            ));
        }
        if let Some(reason) = self.other_resource(at, ours, theirs) {
            return Some(reason);
        }
        Some(format!(
            "{name} argument {number} differs from what playbook {} produces: expected {}, got {}",
            self.playbook.id,
            shown(&local_shown(ours)),
            shown(theirs)
        ))
    }

    /// Why `theirs` does not match `ours`, which carries the timestamp.
    fn timestamp_difference(&self, at: &Context<'_>, ours: &str, theirs: &str) -> String {
        let Context { name, number, .. } = *at;
        if let Some(reason) = self.dangerous(at, theirs) {
            return reason;
        }
        let pieces: Vec<&str> = ours.split(SENTINEL).collect();
        if let [prefix, suffix] = pieces.as_slice()
            && theirs.len() >= prefix.len() + suffix.len()
            && theirs.starts_with(prefix)
            && theirs.ends_with(suffix)
        {
            return format!(
                "{name} argument {number} must carry a 12-digit timestamp ({TIMESTAMP_SHOWN}) where playbook {} puts one: expected {}, got {}",
                self.playbook.id,
                shown(&local_shown(ours)),
                shown(theirs)
            );
        }
        if let Some(timestamp) = &self.timestamp
            && let Some(reason) =
                self.other_resource(at, &ours.replace(SENTINEL, timestamp), theirs)
        {
            return reason;
        }
        format!(
            "{name} argument {number} differs from what playbook {} produces: expected {}, got {}",
            self.playbook.id,
            shown(&local_shown(ours)),
            shown(theirs)
        )
    }

    /// Shell metacharacters, or a region where no identified resource is.
    fn dangerous(&self, at: &Context<'_>, theirs: &str) -> Option<String> {
        let Context { name, number, .. } = *at;
        if theirs.chars().any(|c| c.is_control() || SHELL_METACHARACTERS.contains(&c)) {
            return Some(format!(
                "{name} carries shell metacharacters in argument {number}: {}",
                shown(theirs)
            ));
        }
        let region = match theirs.strip_prefix("--region=") {
            Some(region) => Some(region),
            None if at.previous_theirs.is_some_and(|p| p == "--region") => Some(theirs),
            None => None,
        };
        if let Some(region) = region
            && !self.regions.contains(region)
        {
            return Some(format!(
                "{name} targets region {}, where no identified resource is",
                shown(region)
            ));
        }
        None
    }

    /// Where the local argument names an identified resource and the plan's names another.
    fn other_resource(&self, at: &Context<'_>, ours: &str, theirs: &str) -> Option<String> {
        let name = at.name;
        // The longest first: an ARN contains the id.
        let named = self
            .identifiers
            .iter()
            .filter(|identifier| ours.contains(**identifier))
            .max_by_key(|identifier| identifier.len())?;
        let (prefix, suffix) = ours.split_once(named)?;
        let instead = theirs.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix))?;
        if instead.is_empty() {
            return None;
        }
        if self.identifiers.contains(instead) {
            Some(format!(
                "{name} acts on {} where playbook {} acts on {} at this point",
                shown(instead),
                self.playbook.id,
                shown(named)
            ))
        } else {
            Some(format!("{name} acts on {}, which is not an identified resource", shown(instead)))
        }
    }
}

/// Where an argument is, for reasons.
#[derive(Clone, Copy)]
struct Context<'a> {
    name: &'a str,
    /// 1-based.
    number: usize,
    previous_ours: Option<&'a String>,
    previous_theirs: Option<&'a String>,
}

/// The digits standing for [`SENTINEL`] when `plan` is `local` with each sentinel replaced
/// by the same 12 ASCII digits.
fn match_timestamp(local: &str, plan: &str) -> Option<String> {
    let mut parts = local.split(SENTINEL);
    let mut rest = plan.strip_prefix(parts.next()?)?;
    let mut found: Option<&str> = None;
    for part in parts {
        let digits = rest.get(..TIMESTAMP_DIGITS)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) || found.is_some_and(|f| f != digits) {
            return None;
        }
        found = Some(digits);
        rest = rest.get(TIMESTAMP_DIGITS..)?.strip_prefix(part)?;
    }
    if rest.is_empty() { found.map(str::to_owned) } else { None }
}

/// A local argument as the operator should read it.
fn local_shown(text: &str) -> String {
    text.replace(SENTINEL, TIMESTAMP_SHOWN)
}

/// A command for a reason: as is when it is plainly an AWS CLI command, quoted otherwise.
fn command_shown(command: &str) -> String {
    let plain = command.len() <= MAX_SHOWN_CHARS
        && command
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " -".contains(c));
    if plain { format!("`{command}`") } else { shown(command) }
}

/// Untrusted text quoted back: as is when it is a plain identifier, else escaped and
/// bounded, so it can neither run on in the terminal nor hide what it is.
fn shown(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().count() <= MAX_SHOWN_CHARS
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c));
    if plain {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    if cut.len() < text.len() { format!("{cut:?}…") } else { format!("{cut:?}") }
}

/// Untrusted prose quoted back: control characters dropped, length bounded.
fn printable(text: &str) -> String {
    const MAX_PROSE_CHARS: usize = 300;
    let mut clean = text.chars().filter(|c| !c.is_control());
    let head: String = clean.by_ref().take(MAX_PROSE_CHARS).collect();
    if clean.next().is_some() { format!("{head}…") } else { head }
}

/// Captures for a reason: `name=expression` pairs, the first few.
fn captures_shown(captures: &BTreeMap<String, String>) -> String {
    const MAX_LISTED: usize = 5;
    if captures.is_empty() {
        return "nothing".to_owned();
    }
    let mut listed: Vec<String> = captures
        .iter()
        .take(MAX_LISTED)
        .map(|(name, expression)| format!("{}={}", shown(name), shown(expression)))
        .collect();
    if captures.len() > MAX_LISTED {
        listed.push("…".to_owned());
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_twelve_digits_the_same_everywhere() {
        let local = format!("db-final-{SENTINEL}");
        assert_eq!(
            match_timestamp(&local, "db-final-202611260930").as_deref(),
            Some("202611260930")
        );
        for bad in [
            "db-final-",
            "db-final-20261126093",
            "db-final-2026112609300",
            "db-final-20261126093x",
            "db-final-٢٠٢٦١١٢٦٠٩٣٠",
            "x-final-202611260930",
        ] {
            assert_eq!(match_timestamp(&local, bad), None, "{bad}");
        }
        let twice = format!("{SENTINEL}-{SENTINEL}");
        assert!(match_timestamp(&twice, "202611260930-202611260930").is_some());
        assert_eq!(match_timestamp(&twice, "202611260930-202611260931"), None);
        // Multi-byte text where digits should be must not panic.
        assert_eq!(match_timestamp(&local, "db-final-ééééééééééééé"), None);
    }

    #[test]
    fn untrusted_text_is_quoted_and_bounded() {
        assert_eq!(shown("db-other"), "db-other");
        assert_eq!(shown("a; rm -rf ~"), "\"a; rm -rf ~\"");
        assert_eq!(shown("\u{1b}[2J"), "\"\\u{1b}[2J\"");
        assert!(shown(&"x".repeat(1000)).len() < 100);
        assert_eq!(printable("line\nbreak"), "linebreak");
        assert!(printable(&"y".repeat(1000)).ends_with('…'));
        let captures = BTreeMap::from([("image_id".to_owned(), "Images[0].ImageId".to_owned())]);
        assert_eq!(captures_shown(&captures), "image_id=\"Images[0].ImageId\"");
        assert_eq!(captures_shown(&BTreeMap::new()), "nothing");
    }
}
