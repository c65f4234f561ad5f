//! What the identity in use may do, judged from its own IAM policies.
//!
//! [`identity_policies`] reads the policies of the identity an account's credentials act as
//! (STS `GetCallerIdentity`, then the user's attached, inline and group policies, or the
//! assumed role's attached and inline policies and its permissions boundary), and
//! [`IdentityPolicies::decide`] evaluates one action on one resource against them: an
//! explicit `Deny` wins; an unconditional `Allow` allows; what only conditions decide is
//! [`Access::Unknown`]; nothing that allows is an implicit deny, final for services without
//! resource policies and unknown for those with them (a bucket policy may grant what no
//! identity policy does). Service control policies and session policies are not read, so
//! [`Access::Allowed`] means "allowed by the identity's policies"; a denial is final.
//!
//! This is the local evaluation the design asks for where policy simulation is unavailable
//! (moto has none; some organisations deny `iam:SimulatePrincipalPolicy`).

use std::collections::{BTreeMap, HashMap};

use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Access {
    /// An identity policy allows it without conditions, and nothing denies it.
    Allowed {
        /// Which policy allows it.
        by: String,
    },
    /// Explicitly denied, or allowed by nothing where only identity policies can allow.
    Denied {
        /// Why, naming the policy when one denies it.
        reason: String,
    },
    /// Cannot be decided here (conditions, policy variables, resource policies, policies
    /// that could not be read): shown as unknown, never as allowed.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One policy document, by its source (`managed policy ReadOnly`, `inline policy x of
/// user alice`).
#[derive(Debug, Clone)]
struct Named {
    source: String,
    statements: Vec<Statement>,
}

/// The policies of one identity.
#[derive(Debug, Clone)]
pub struct IdentityPolicies {
    /// The identity's ARN, as STS names it.
    pub principal: String,
    /// The IAM ARN of the user or role behind it, as IAM names it (what policy simulation
    /// judges); `None` for the root user.
    pub source: Option<String>,
    /// The account's root user: everything is allowed.
    root: bool,
    policies: Vec<Named>,
    /// A permissions boundary: what it does not allow, nothing allows.
    boundary: Option<Named>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    #[serde(default)]
    statement: OneOrMany<Statement>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    effect: String,
    #[serde(default)]
    action: Option<OneOrMany<String>>,
    #[serde(default)]
    not_action: Option<OneOrMany<String>>,
    #[serde(default)]
    resource: Option<OneOrMany<String>>,
    #[serde(default)]
    not_resource: Option<OneOrMany<String>>,
    #[serde(default)]
    condition: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    fn items(&self) -> &[T] {
        match self {
            OneOrMany::One(item) => std::slice::from_ref(item),
            OneOrMany::Many(items) => items,
        }
    }
}

/// Services whose resources can carry a policy of their own that grants access no identity
/// policy does (in the same account).
const RESOURCE_POLICY_SERVICES: [&str; 10] =
    ["s3", "lambda", "sqs", "sns", "kms", "secretsmanager", "ecr", "glacier", "es", "events"];

/// How one statement bears on a request.
enum Bearing {
    None,
    Applies,
    MaybeApplies(&'static str),
}

impl Statement {
    fn bearing(&self, action: &str, resource: &str) -> Bearing {
        let action_matches = match (&self.action, &self.not_action) {
            (Some(actions), _) => actions.items().iter().any(|p| glob(&p.to_lowercase(), action)),
            (None, Some(not)) => !not.items().iter().any(|p| glob(&p.to_lowercase(), action)),
            (None, None) => false,
        };
        if !action_matches {
            return Bearing::None;
        }
        let patterns = self.resource.as_ref().or(self.not_resource.as_ref());
        let variable = patterns.is_some_and(|p| p.items().iter().any(|p| p.contains("${")));
        let resource_matches = match (&self.resource, &self.not_resource) {
            (Some(resources), _) => resources.items().iter().any(|p| glob(p, resource)),
            (None, Some(not)) => !not.items().iter().any(|p| glob(p, resource)),
            (None, None) => false,
        };
        if variable {
            return Bearing::MaybeApplies("a policy variable in its Resource");
        }
        if !resource_matches {
            return Bearing::None;
        }
        if self.condition.as_ref().is_some_and(|c| c.as_object().is_none_or(|c| !c.is_empty())) {
            return Bearing::MaybeApplies("its conditions");
        }
        Bearing::Applies
    }

    fn denies(&self) -> bool {
        self.effect.eq_ignore_ascii_case("deny")
    }
}

impl Named {
    /// How this policy's statements bear on `action` on `resource`.
    fn judge(&self, action: &str, resource: &str) -> Judgement {
        let mut judgement = Judgement::default();
        for statement in &self.statements {
            match (statement.bearing(action, resource), statement.denies()) {
                (Bearing::None, _) => {}
                (Bearing::Applies, false) => judgement.allow = true,
                (Bearing::Applies, true) => judgement.deny = true,
                (Bearing::MaybeApplies(why), false) => {
                    judgement.maybe_allow.get_or_insert(why);
                }
                (Bearing::MaybeApplies(why), true) => {
                    judgement.maybe_deny.get_or_insert(why);
                }
            }
        }
        judgement
    }
}

#[derive(Default)]
struct Judgement {
    allow: bool,
    deny: bool,
    maybe_allow: Option<&'static str>,
    maybe_deny: Option<&'static str>,
}

impl IdentityPolicies {
    /// Whether the identity may do `action` (`rds:StopDBInstance`) on `resource` (an ARN).
    pub fn decide(&self, action: &str, resource: &str) -> Access {
        if self.root {
            return Access::Allowed { by: "the account's root user".to_owned() };
        }
        let named = action;
        let action = action.to_lowercase();
        let mut allowed_by = None;
        let mut unknown = None;
        for policy in &self.policies {
            let judgement = policy.judge(&action, resource);
            if judgement.deny {
                return Access::Denied {
                    reason: format!("{} denies {named} on {resource}", policy.source),
                };
            }
            if let Some(why) = judgement.maybe_deny {
                unknown.get_or_insert(format!("a Deny in {} may apply ({why})", policy.source));
            }
            if judgement.allow {
                allowed_by.get_or_insert(policy.source.clone());
            } else if let Some(why) = judgement.maybe_allow {
                unknown.get_or_insert(format!("{} allows it only under {why}", policy.source));
            }
        }
        if let Some(boundary) = &self.boundary {
            let judgement = boundary.judge(&action, resource);
            if judgement.deny || (!judgement.allow && judgement.maybe_allow.is_none()) {
                return Access::Denied {
                    reason: format!("{} does not allow {named}", boundary.source),
                };
            }
            if !judgement.allow {
                unknown
                    .get_or_insert(format!("{} allows it only under conditions", boundary.source));
            }
        }
        if let Some(reason) = unknown {
            return Access::Unknown { reason };
        }
        if let Some(by) = allowed_by {
            return Access::Allowed { by };
        }
        let service = action.split(':').next().unwrap_or_default();
        if RESOURCE_POLICY_SERVICES.contains(&service) {
            Access::Unknown {
                reason: format!(
                    "no identity policy of {} allows {named}; a policy on the resource might",
                    self.principal
                ),
            }
        } else {
            Access::Denied {
                reason: format!("no identity policy of {} allows {named}", self.principal),
            }
        }
    }
}

/// `*` and `?` wildcard matching, iterative with backtracking (IAM's matching for actions,
/// which are compared lowercased, and resources, which are compared as they are).
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// A policy document as IAM returns it: URL-encoded JSON (moto returns it plain).
fn parse_document(source: String, text: &str) -> Result<Named, String> {
    let decoded = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map_err(|e| format!("{source}: not UTF-8: {e}"))?
            .into_owned()
    };
    let document: Document =
        serde_json::from_str(&decoded).map_err(|e| format!("{source}: not a policy: {e}"))?;
    Ok(Named { source, statements: document.statement.items().to_vec() })
}

/// Who the ARN from STS names: the root user, a user, an assumed role, or something this
/// cannot read policies for.
enum Principal {
    Root,
    User(String),
    Role(String),
}

fn principal(arn: &str) -> Result<Principal, String> {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    if resource == "root" {
        return Ok(Principal::Root);
    }
    if let Some(path) = resource.strip_prefix("user/") {
        return Ok(Principal::User(path.rsplit('/').next().unwrap_or(path).to_owned()));
    }
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        let role = rest.split('/').next().unwrap_or_default();
        if !role.is_empty() {
            return Ok(Principal::Role(role.to_owned()));
        }
    }
    Err(format!("cannot read the policies of {arn} (neither a user nor an assumed role)"))
}

/// The policies of the identity `sdk_config`'s credentials act as. `Err` says why they
/// could not be read (the identity may not read its own policies: then nothing is known).
pub async fn identity_policies(sdk_config: &SdkConfig) -> Result<IdentityPolicies, String> {
    let identity = aws_sdk_sts::Client::new(sdk_config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| crate::Error::aws("sts", "GetCallerIdentity", e).to_string())?;
    let arn = identity.arn().unwrap_or_default().to_owned();
    let iam = aws_sdk_iam::Client::new(sdk_config);
    let holder = match principal(&arn)? {
        Principal::Root => {
            return Ok(IdentityPolicies {
                principal: arn,
                source: None,
                root: true,
                policies: Vec::new(),
                boundary: None,
            });
        }
        Principal::User(user) => Holder::User(user),
        Principal::Role(role) => Holder::Role(role),
    };
    let read = async {
        let mut policies = holder.policies(&iam).await?;
        if let Holder::User(user) = &holder {
            let groups = iam
                .list_groups_for_user()
                .user_name(user)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| crate::Error::aws("iam", "ListGroupsForUser", e).to_string())?;
            for group in groups {
                policies.extend(Holder::Group(group.group_name().to_owned()).policies(&iam).await?);
            }
        }
        let (source, boundary) = holder.details(&iam).await?;
        let boundary = match boundary {
            Some(policy_arn) => {
                let mut named = managed(&iam, &policy_arn).await?;
                named.source = format!("permissions boundary {policy_arn}");
                Some(named)
            }
            None => None,
        };
        Ok::<_, String>((policies, source, boundary))
    };
    let (policies, source, boundary) =
        read.await.map_err(|error| format!("cannot read the policies of {arn}: {error}"))?;
    Ok(IdentityPolicies { principal: arn, source, root: false, policies, boundary })
}

/// Resources named per simulation call (with every action of their type).
const SIMULATED_PER_CALL: usize = 25;

/// What one account's credentials may do, as a sync records it on each resource
/// ([`AccountAccess::record`]): IAM policy simulation (`iam:SimulatePrincipalPolicy`) for the
/// identity, which also weighs service control policies; where simulation is unavailable
/// (moto has none; some organisations deny it), the identity's own policies judged locally
/// ([`IdentityPolicies::decide`]). Read once per account and sync.
pub struct AccountAccess {
    iam: aws_sdk_iam::Client,
    policies: Result<IdentityPolicies, String>,
    /// Why simulation is not used: set when it is not possible, or on its first failure.
    simulation_off: std::sync::OnceLock<String>,
}

impl std::fmt::Debug for AccountAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountAccess")
            .field("principal", &self.policies.as_ref().map(|p| &p.principal))
            .field("simulation_off", &self.simulation_off.get())
            .finish_non_exhaustive()
    }
}

/// Reads what `sdk_config`'s identity may do (its policies; simulation is tried on first use).
pub async fn account_access(sdk_config: &SdkConfig) -> AccountAccess {
    let policies = identity_policies(sdk_config).await;
    let simulation_off = std::sync::OnceLock::new();
    match &policies {
        Ok(policies) if policies.source.is_none() => {
            let _ = simulation_off.set("nothing to simulate for the root user".to_owned());
        }
        Ok(_) => {}
        Err(reason) => {
            let _ = simulation_off.set(reason.clone());
        }
    }
    AccountAccess { iam: aws_sdk_iam::Client::new(sdk_config), policies, simulation_off }
}

impl AccountAccess {
    /// How `actions` are judged on `resources` (ARNs): every pair, answered.
    pub async fn decide_all(
        &self,
        actions: &[String],
        resources: &[&str],
    ) -> HashMap<(String, String), Access> {
        let mut decided = HashMap::new();
        if actions.is_empty() || resources.is_empty() {
            return decided;
        }
        if let (Ok(policies), None) = (&self.policies, self.simulation_off.get()) {
            let source = policies.source.clone().unwrap_or_default();
            for chunk in resources.chunks(SIMULATED_PER_CALL) {
                match self.simulate(&source, actions, chunk).await {
                    Ok(results) => {
                        for result in &results {
                            decided.extend(simulated(result));
                        }
                    }
                    Err(error) => {
                        tracing::info!(%error, "policy simulation unavailable; judging the identity's policies locally");
                        let _ = self.simulation_off.set(error);
                        break;
                    }
                }
            }
        }
        for action in actions {
            for resource in resources {
                let key = (action.clone(), (*resource).to_owned());
                if decided.contains_key(&key) {
                    continue;
                }
                let access = match &self.policies {
                    Ok(policies) => policies.decide(action, resource),
                    Err(reason) => Access::Unknown { reason: reason.clone() },
                };
                decided.insert(key, access);
            }
        }
        decided
    }

    async fn simulate(
        &self,
        source: &str,
        actions: &[String],
        resources: &[&str],
    ) -> Result<Vec<aws_sdk_iam::types::EvaluationResult>, String> {
        self.iam
            .simulate_principal_policy()
            .policy_source_arn(source)
            .set_action_names(Some(actions.to_vec()))
            .set_resource_arns(Some(resources.iter().map(|r| (*r).to_owned()).collect()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| crate::Error::aws("iam", "SimulatePrincipalPolicy", e).to_string())
    }

    /// Records on each of `resources` which of the actions its type needs (`needed`, by
    /// resource type) the credentials may do, may not do, or cannot be known to do.
    pub async fn record(
        &self,
        resources: &mut [cloudops_core::Resource],
        needed: &BTreeMap<cloudops_core::ResourceType, Vec<String>>,
    ) {
        for (resource_type, actions) in needed {
            let arns: Vec<&str> = resources
                .iter()
                .filter(|r| &r.resource_type == resource_type)
                .map(|r| r.arn.as_str())
                .collect();
            if arns.is_empty() {
                continue;
            }
            let decided = self.decide_all(actions, &arns).await;
            for resource in resources.iter_mut().filter(|r| &r.resource_type == resource_type) {
                resource.permissions.clear();
                resource.permissions_denied.clear();
                resource.permissions_unknown.clear();
                for action in actions {
                    match decided.get(&(action.clone(), resource.arn.clone())) {
                        Some(Access::Allowed { .. }) => resource.permissions.push(action.clone()),
                        Some(Access::Denied { .. }) => {
                            resource.permissions_denied.push(action.clone());
                        }
                        Some(Access::Unknown { .. }) | None => {
                            resource.permissions_unknown.push(action.clone());
                        }
                    }
                }
            }
        }
    }
}

/// The decisions one simulation result gives, per (action, resource ARN). Without
/// conditions the simulation could not decide, `allowed` allows and `explicitDeny` denies;
/// `implicitDeny` denies except where a policy on the resource might still allow.
fn simulated(result: &aws_sdk_iam::types::EvaluationResult) -> Vec<((String, String), Access)> {
    use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decision;
    let action = result.eval_action_name().to_owned();
    let service = action.split(':').next().unwrap_or_default().to_lowercase();
    let judge = |decision: &Decision,
                 missing: &[String],
                 statements: &[aws_sdk_iam::types::Statement]| {
        let by = statements.iter().find_map(|s| s.source_policy_id()).map_or_else(
            || "IAM policy simulation".to_owned(),
            |id| format!("policy {id} (IAM policy simulation)"),
        );
        match decision {
            Decision::Allowed => Access::Allowed { by },
            Decision::ExplicitDeny => {
                Access::Denied { reason: format!("{by} denies {action} (explicit deny)") }
            }
            _ if !missing.is_empty() => Access::Unknown {
                reason: format!("depends on context the simulation lacks: {}", missing.join(", ")),
            },
            _ if RESOURCE_POLICY_SERVICES.contains(&service.as_str()) => Access::Unknown {
                reason: format!(
                    "no identity policy allows {action}; a policy on the resource might"
                ),
            },
            _ => Access::Denied {
                reason: format!("no policy allows {action} (IAM policy simulation)"),
            },
        }
    };
    if !result.resource_specific_results().is_empty() {
        return result
            .resource_specific_results()
            .iter()
            .map(|r| {
                (
                    (action.clone(), r.eval_resource_name().to_owned()),
                    judge(
                        r.eval_resource_decision(),
                        r.missing_context_values(),
                        r.matched_statements(),
                    ),
                )
            })
            .collect();
    }
    let Some(resource) = result.eval_resource_name() else { return Vec::new() };
    vec![(
        (action.clone(), resource.to_owned()),
        judge(result.eval_decision(), result.missing_context_values(), result.matched_statements()),
    )]
}

/// Who holds policies: a user, a group or a role.
enum Holder {
    User(String),
    Group(String),
    Role(String),
}

impl Holder {
    /// Its attached (managed) and inline policies.
    async fn policies(&self, iam: &aws_sdk_iam::Client) -> Result<Vec<Named>, String> {
        let attached = match self {
            Holder::User(name) => listed(
                iam.list_attached_user_policies()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListAttachedUserPolicies",
            )?,
            Holder::Group(name) => listed(
                iam.list_attached_group_policies()
                    .group_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListAttachedGroupPolicies",
            )?,
            Holder::Role(name) => listed(
                iam.list_attached_role_policies()
                    .role_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListAttachedRolePolicies",
            )?,
        };
        let mut policies = Vec::new();
        for policy in attached {
            if let Some(policy_arn) = policy.policy_arn() {
                policies.push(managed(iam, policy_arn).await?);
            }
        }
        let inline = match self {
            Holder::User(name) => listed(
                iam.list_user_policies()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListUserPolicies",
            )?,
            Holder::Group(name) => listed(
                iam.list_group_policies()
                    .group_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListGroupPolicies",
            )?,
            Holder::Role(name) => listed(
                iam.list_role_policies()
                    .role_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await,
                "ListRolePolicies",
            )?,
        };
        for policy_name in inline {
            let (kind, name, document) = match self {
                Holder::User(name) => {
                    let answer = iam
                        .get_user_policy()
                        .user_name(name)
                        .policy_name(&policy_name)
                        .send()
                        .await
                        .map_err(|e| crate::Error::aws("iam", "GetUserPolicy", e).to_string())?;
                    ("user", name, answer.policy_document().to_owned())
                }
                Holder::Group(name) => {
                    let answer = iam
                        .get_group_policy()
                        .group_name(name)
                        .policy_name(&policy_name)
                        .send()
                        .await
                        .map_err(|e| crate::Error::aws("iam", "GetGroupPolicy", e).to_string())?;
                    ("group", name, answer.policy_document().to_owned())
                }
                Holder::Role(name) => {
                    let answer = iam
                        .get_role_policy()
                        .role_name(name)
                        .policy_name(&policy_name)
                        .send()
                        .await
                        .map_err(|e| crate::Error::aws("iam", "GetRolePolicy", e).to_string())?;
                    ("role", name, answer.policy_document().to_owned())
                }
            };
            policies.push(parse_document(
                format!("inline policy {policy_name} of {kind} {name}"),
                &document,
            )?);
        }
        Ok(policies)
    }

    /// Its IAM ARN and the ARN of its permissions boundary, if it has one (groups have
    /// neither here).
    async fn details(
        &self,
        iam: &aws_sdk_iam::Client,
    ) -> Result<(Option<String>, Option<String>), String> {
        let (arn, boundary) = match self {
            Holder::User(name) => {
                let answer = iam
                    .get_user()
                    .user_name(name)
                    .send()
                    .await
                    .map_err(|e| crate::Error::aws("iam", "GetUser", e).to_string())?;
                let user = answer.user();
                (
                    user.map(|u| u.arn().to_owned()),
                    user.and_then(|u| u.permissions_boundary()).cloned(),
                )
            }
            Holder::Role(name) => {
                let answer = iam
                    .get_role()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(|e| crate::Error::aws("iam", "GetRole", e).to_string())?;
                let role = answer.role();
                (
                    role.map(|r| r.arn().to_owned()),
                    role.and_then(|r| r.permissions_boundary()).cloned(),
                )
            }
            Holder::Group(_) => (None, None),
        };
        Ok((arn, boundary.and_then(|b| b.permissions_boundary_arn().map(str::to_owned))))
    }
}

/// Every item of a paginated IAM listing, or the error in words.
fn listed<T, E>(items: Result<Vec<T>, E>, operation: &'static str) -> Result<Vec<T>, String>
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error,
{
    items.map_err(|e| crate::Error::aws("iam", operation, e).to_string())
}

/// A managed policy's default version.
async fn managed(iam: &aws_sdk_iam::Client, policy_arn: &str) -> Result<Named, String> {
    let policy = iam
        .get_policy()
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| crate::Error::aws("iam", "GetPolicy", e).to_string())?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| format!("{policy_arn} has no default version"))?
        .to_owned();
    let answer = iam
        .get_policy_version()
        .policy_arn(policy_arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| crate::Error::aws("iam", "GetPolicyVersion", e).to_string())?;
    let document = answer
        .policy_version()
        .and_then(|v| v.document())
        .ok_or_else(|| format!("{policy_arn} {version} has no document"))?;
    parse_document(format!("managed policy {policy_arn}"), document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(documents: &[&str]) -> IdentityPolicies {
        IdentityPolicies {
            principal: "arn:aws:iam::111111111111:user/alice".to_owned(),
            source: Some("arn:aws:iam::111111111111:user/alice".to_owned()),
            root: false,
            policies: documents
                .iter()
                .enumerate()
                .map(|(i, d)| parse_document(format!("policy {i}"), d).expect("policy"))
                .collect(),
            boundary: None,
        }
    }

    const DB: &str = "arn:aws:rds:us-west-2:111111111111:db:pg-main";

    #[test]
    fn allow_deny_and_what_is_left_unknown() {
        let read_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["rds:Describe*","ec2:Describe*"],"Resource":"*"}}"#;
        let policies = identity(&[read_only]);
        assert!(matches!(policies.decide("rds:DescribeDBInstances", DB), Access::Allowed { .. }));
        let denied = policies.decide("rds:StopDBInstance", DB);
        assert!(
            matches!(&denied, Access::Denied { reason } if reason.contains("allows rds:StopDBInstance")),
            "{denied:?}"
        );
        // A resource policy might grant S3 access no identity policy does.
        assert!(matches!(
            policies.decide("s3:DeleteBucket", "arn:aws:s3:::b"),
            Access::Unknown { .. }
        ));

        let operator = r#"{"Statement":[
            {"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:us-west-2:111111111111:db:pg-*"},
            {"Effect":"Deny","Action":"rds:DeleteDBInstance","Resource":"*"},
            {"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}},
            {"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:lambda:*:*:function:tools-?"}
        ]}"#;
        let policies = identity(&[operator]);
        assert!(matches!(policies.decide("rds:StopDBInstance", DB), Access::Allowed { .. }));
        assert!(matches!(
            policies.decide("RDS:StopDBInstance", "arn:aws:rds:us-west-2:111111111111:db:other"),
            Access::Denied { .. }
        ));
        let explicit = policies.decide("rds:DeleteDBInstance", DB);
        assert!(
            matches!(&explicit, Access::Denied { reason } if reason.contains("policy 0 denies"))
        );
        assert!(matches!(
            policies.decide("ec2:StopInstances", "arn:aws:ec2:us-west-2:111111111111:instance/i-1"),
            Access::Unknown { .. }
        ));
        let lambda = "arn:aws:lambda:us-west-2:111111111111:function:tools-1";
        assert!(matches!(policies.decide("lambda:InvokeFunction", lambda), Access::Allowed { .. }));
        assert!(!matches!(
            policies.decide("lambda:InvokeFunction", &format!("{lambda}2")),
            Access::Allowed { .. }
        ));

        let variable = r#"{"Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:*:*:db:${aws:username}-*"}]}"#;
        assert!(matches!(
            identity(&[variable]).decide("rds:StopDBInstance", DB),
            Access::Unknown { .. }
        ));

        let mut bounded = identity(&[operator]);
        bounded.boundary = Some(parse_document("boundary".into(), read_only).expect("boundary"));
        assert!(matches!(bounded.decide("rds:StopDBInstance", DB), Access::Denied { .. }));
        assert!(matches!(bounded.decide("rds:DescribeDBInstances", DB), Access::Allowed { .. }));
    }

    #[test]
    fn simulation_results_become_decisions() {
        use aws_sdk_iam::types::{
            EvaluationResult, PolicyEvaluationDecisionType as D, ResourceSpecificResult, Statement,
        };
        let db = |name: &str| format!("arn:aws:rds:us-west-2:111111111111:db:{name}");
        let allowed = EvaluationResult::builder()
            .eval_action_name("rds:StopDBInstance")
            .eval_resource_name(db("a"))
            .eval_decision(D::Allowed)
            .matched_statements(Statement::builder().source_policy_id("ops").build())
            .build()
            .expect("result");
        let decided = simulated(&allowed);
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].0, ("rds:StopDBInstance".to_owned(), db("a")));
        assert!(matches!(&decided[0].1, Access::Allowed { by } if by.contains("ops")));

        let per_resource = EvaluationResult::builder()
            .eval_action_name("rds:DeleteDBInstance")
            .eval_decision(D::ImplicitDeny)
            .resource_specific_results(
                ResourceSpecificResult::builder()
                    .eval_resource_name(db("a"))
                    .eval_resource_decision(D::ExplicitDeny)
                    .build()
                    .expect("a"),
            )
            .resource_specific_results(
                ResourceSpecificResult::builder()
                    .eval_resource_name(db("b"))
                    .eval_resource_decision(D::ImplicitDeny)
                    .missing_context_values("aws:ResourceTag/env")
                    .build()
                    .expect("b"),
            )
            .resource_specific_results(
                ResourceSpecificResult::builder()
                    .eval_resource_name(db("c"))
                    .eval_resource_decision(D::ImplicitDeny)
                    .build()
                    .expect("c"),
            )
            .build()
            .expect("result");
        let decided: HashMap<_, _> = simulated(&per_resource).into_iter().collect();
        let of = |name: &str| &decided[&("rds:DeleteDBInstance".to_owned(), db(name))];
        assert!(matches!(of("a"), Access::Denied { reason } if reason.contains("explicit")));
        assert!(matches!(of("b"), Access::Unknown { reason } if reason.contains("ResourceTag")));
        assert!(matches!(of("c"), Access::Denied { .. }));

        // A bucket policy may grant what no identity policy does.
        let bucket = EvaluationResult::builder()
            .eval_action_name("s3:PutBucketVersioning")
            .eval_resource_name("arn:aws:s3:::dumps")
            .eval_decision(D::ImplicitDeny)
            .build()
            .expect("result");
        assert!(matches!(simulated(&bucket)[0].1, Access::Unknown { .. }));
    }

    #[test]
    fn documents_as_iam_returns_them() {
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22rds%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let named = parse_document("encoded".into(), encoded).expect("decoded");
        assert_eq!(named.statements.len(), 1);
        assert!(parse_document("bad".into(), "{not json").is_err());
        assert!(matches!(principal("arn:aws:iam::1:root"), Ok(Principal::Root)));
        assert!(
            matches!(principal("arn:aws:iam::1:user/ops/alice"), Ok(Principal::User(u)) if u == "alice")
        );
        assert!(
            matches!(principal("arn:aws:sts::1:user/moto"), Ok(Principal::User(u)) if u == "moto")
        );
        assert!(
            matches!(principal("arn:aws:sts::1:assumed-role/Ops/s1"), Ok(Principal::Role(r)) if r == "Ops")
        );
        assert!(principal("arn:aws:sts::1:federated-user/x").is_err());
        assert!(glob("rds:describe*", "rds:describedbinstances"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("*", "") && !glob("a", ""));
    }
}
