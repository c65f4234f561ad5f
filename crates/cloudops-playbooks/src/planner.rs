//! From an enriched request to a plan: validate the request, classify the intent by
//! retrieving playbooks for the resources' service and type, render the best one, and say
//! honestly when nothing fits.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cloudops_core::{
    Catalog, CatalogDocument, CatalogQuery, Classification, Embedder, EnrichedRequest,
    IdentifiedResource, Intent, IntentClass, PlanResponse, PlaybookRef, PlaybookSummary,
    RiskAssessment, RiskLevel, Script, classify, operator_words, similar_spelling,
};

use crate::error::{Error, Result};
use crate::library::{Library, Origin};
use crate::render::{RenderInput, render};
use crate::schema::Playbook;

/// Limits on what a request may carry.
pub const MAX_PROMPT_BYTES: usize = 4096;
/// The most resources one plan may act on.
pub const MAX_RESOURCES: usize = 100;

/// Without shared words, a playbook is picked only from this cosine similarity between the
/// request and one of its texts.
const MIN_SIMILARITY: f32 = 0.5;

/// Facets of the playbook catalog.
const FACETS: [&str; 2] = ["service", "resource_type"];

/// The planner: a library and its retrieval index.
pub struct Planner {
    library: Library,
    catalog: Catalog,
    /// Per playbook id, the (stemmed) words that are evidence of its operation.
    evidence: BTreeMap<String, BTreeSet<String>>,
    /// Every evidence word of the library, for spelling correction.
    vocabulary: BTreeSet<String>,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner").field("playbooks", &self.library.len()).finish_non_exhaustive()
    }
}

/// A retrieved playbook with its relevance.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    /// The playbook id.
    pub id: String,
    /// Fused relevance, `0..=1`.
    pub score: f32,
    /// Whether the words of the request matched the playbook's words.
    pub lexical: bool,
    /// The best cosine similarity of the request to one of the playbook's texts.
    pub similarity: Option<f32>,
}

impl Planner {
    /// Indexes `library` for retrieval with `embedder`.
    pub fn new(library: Library, embedder: Arc<dyn Embedder>) -> Result<Self> {
        let documents: Vec<CatalogDocument> = library
            .playbooks()
            .map(|loaded| {
                let playbook = &loaded.playbook;
                CatalogDocument {
                    id: playbook.id.clone(),
                    title: format!("{} {}", playbook.title, playbook.operation.replace('_', " ")),
                    description: playbook.description.clone(),
                    examples: playbook.examples.clone(),
                    facets: BTreeMap::from([
                        ("service".to_owned(), vec![playbook.service.as_str().to_owned()]),
                        ("resource_type".to_owned(), playbook.resource_types.clone()),
                    ]),
                }
            })
            .collect();
        let catalog = Catalog::build(&documents, &FACETS, embedder)?;
        let evidence: BTreeMap<String, BTreeSet<String>> = library
            .playbooks()
            .map(|loaded| (loaded.playbook.id.clone(), operation_vocabulary(&loaded.playbook)))
            .collect();
        let vocabulary = evidence.values().flatten().cloned().collect();
        Ok(Planner { library, catalog, evidence, vocabulary })
    }

    /// Whether `prompt` has words for the operation of playbook `id` (positive evidence):
    /// its operation id, its title and examples' operation words, and their synonyms.
    pub fn has_evidence(&self, prompt: &str, id: &str) -> bool {
        self.has_evidence_in(&self.evidence_words(prompt), id)
    }

    /// [`Self::has_evidence`] for the prompt's words, read once for every candidate.
    fn has_evidence_in(&self, words: &BTreeSet<String>, id: &str) -> bool {
        self.evidence.get(id).is_some_and(|vocabulary| !vocabulary.is_disjoint(words))
    }

    /// The operations the library has for resources of `kind`, in library order.
    pub fn operations_for(&self, kind: &str) -> Vec<String> {
        let mut operations: Vec<String> = Vec::new();
        for loaded in self.library.playbooks() {
            let playbook = &loaded.playbook;
            let operation = playbook.operation.replace('_', " ");
            if playbook.resource_types.iter().any(|k| k == kind) && !operations.contains(&operation)
            {
                operations.push(operation);
            }
        }
        operations
    }

    /// The prompt's stemmed operation words, typos corrected against the library's words.
    fn evidence_words(&self, prompt: &str) -> BTreeSet<String> {
        let mut words: Vec<String> = operator_words(prompt);
        // Hyphenated vocabulary the classifier sets aside as names ("mutli-az", "stop/start").
        for token in prompt.split_whitespace() {
            if token.contains(['"', '\'', '`']) {
                continue;
            }
            let parts: Vec<&str> = token
                .split(['-', '/'])
                .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric()))
                .collect();
            if parts.len() > 1 && parts.iter().all(|p| p.chars().all(char::is_alphabetic)) {
                words.extend(parts.iter().map(|p| p.to_lowercase()));
            }
        }
        words
            .iter()
            .map(|word| stem(word))
            .map(|word| {
                if self.vocabulary.contains(&word) {
                    return word;
                }
                self.vocabulary
                    .iter()
                    .find(|known| similar_spelling(&word, known))
                    .cloned()
                    .unwrap_or(word)
            })
            .collect()
    }

    /// The library served.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Playbooks for `text`, optionally restricted to a resource type, best first.
    pub fn retrieve(
        &self,
        text: &str,
        resource_type: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Retrieved>> {
        let mut facets = BTreeMap::new();
        if let Some(kind) = resource_type {
            facets.insert("resource_type".to_owned(), vec![kind.to_owned()]);
        }
        let hits = self.catalog.search(&CatalogQuery { text: text.to_owned(), facets, limit })?;
        Ok(hits
            .into_iter()
            .map(|hit| Retrieved {
                lexical: hit.matched_by != cloudops_core::MatchKind::Semantic,
                similarity: hit.similarity,
                id: hit.id,
                score: hit.score,
            })
            .collect())
    }

    /// Plans `request` at the current time.
    pub fn plan(&self, request: &EnrichedRequest) -> Result<PlanResponse> {
        self.plan_at(request, &cloudops_core::time::minute_stamp(std::time::SystemTime::now()))
    }

    /// Plans `request`, with `timestamp` (`YYYYMMDDHHMM`) for `{{ timestamp }}`.
    pub fn plan_at(&self, request: &EnrichedRequest, timestamp: &str) -> Result<PlanResponse> {
        check_request(request)?;
        let classification = classify(&request.prompt);
        let declined = |message: String, alternatives: Vec<PlaybookSummary>| {
            let mut plan = refusal(message, alternatives);
            plan.intent_class = Some(classification.class);
            plan
        };
        // A question, or a request not to act, is never planned.
        if classification.class == IntentClass::Question
            || (classification.class == IntentClass::NegatedOrHypothetical
                && !classification.is_preview())
        {
            return Ok(declined(classification.decline().unwrap_or_default(), Vec::new()));
        }
        let mut plan = self.plan_action(request, &classification, timestamp)?;
        plan.intent_class = Some(classification.class);
        if classification.is_preview() && plan.playbook.is_some() {
            plan.executable = false;
            plan.approval_required = false;
            plan.required_permissions.clear();
            plan.explain_plan = format!(
                "Preview only, nothing will run: {} What the plan would be: {}",
                classification.decline().unwrap_or_default(),
                plan.explain_plan
            );
        } else if classification.is_preview() {
            plan.explain_plan =
                format!("{} {}", classification.decline().unwrap_or_default(), plan.explain_plan);
        }
        Ok(plan)
    }

    /// Plans a request classified as an action (or a hypothetical's preview): the first
    /// retrieved playbook with positive evidence of its operation in the prompt.
    fn plan_action(
        &self,
        request: &EnrichedRequest,
        classification: &Classification,
        timestamp: &str,
    ) -> Result<PlanResponse> {
        let Some(first) = request.identified_resources.first() else {
            return Ok(refusal(
                "No resource was identified, so there is nothing to plan; look the resource up first \
                 (the client sends the resources it resolved)."
                    .into(),
                Vec::new(),
            ));
        };
        let kind = first.resource_type.as_str().to_owned();
        if request.identified_resources.iter().any(|r| r.resource_type.as_str() != kind) {
            return Ok(refusal(
                "The request names resources of different kinds; plan one kind of resource at a time."
                    .into(),
                Vec::new(),
            ));
        }
        let text = retrieval_text(&request.prompt, &request.identified_resources);
        let hits = self.retrieve(&text, Some(&kind), 5)?;
        let alternatives: Vec<PlaybookSummary> = hits
            .iter()
            .filter_map(|hit| {
                let loaded = self.library.get(&hit.id)?;
                Some(PlaybookSummary {
                    id: hit.id.clone(),
                    title: loaded.playbook.title.clone(),
                    score: hit.score,
                })
            })
            .collect();
        // Only an action (or a hypothetical's preview) may choose a playbook, and only one
        // whose operation the prompt names: a related resource type is not enough.
        let may_choose = classification.is_action() || classification.is_preview();
        let words = self.evidence_words(&text);
        let chosen = hits
            .iter()
            .filter(|_| may_choose)
            .filter(|hit| hit.lexical || hit.similarity.is_some_and(|s| s >= MIN_SIMILARITY))
            .find(|hit| self.has_evidence_in(&words, &hit.id));
        let Some(chosen) = chosen.and_then(|hit| Some((hit, self.library.get(&hit.id)?))) else {
            let names: Vec<String> =
                alternatives.iter().map(|a| format!("{} ({})", a.title, a.id)).collect();
            let operations = self.operations_for(&kind);
            let mut message = if names.is_empty() {
                format!("No playbook covers {kind} resources, so no plan was made.")
            } else {
                format!(
                    "No playbook clearly matches \"{}\", so no plan was made. The closest are: {}.",
                    printable(&request.prompt),
                    names.join("; ")
                )
            };
            if let Some(why) = classification.decline() {
                message = format!("{why} {message}");
            }
            if !operations.is_empty() {
                message.push_str(&format!(
                    " The operations this library has for {kind} resources: {}.",
                    operations.join(", ")
                ));
            }
            return Ok(refusal(message, alternatives));
        };
        let (hit, loaded) = chosen;
        // Confidence: retrieval relevance, higher when the words matched too.
        let similarity = hit.similarity.unwrap_or(0.0).max(0.0);
        let confidence = if hit.lexical { 0.5 + 0.5 * hit.score } else { similarity }.min(0.99);
        Ok(self.render_plan(request, &loaded.playbook, confidence, alternatives, timestamp))
    }

    /// Plans `request` with the playbook `id`, chosen outside retrieval (by the operator, or
    /// by an advisor among the retrieved alternatives). The playbook must exist and cover
    /// the resources' type; everything else is checked exactly as for [`Self::plan_at`].
    pub fn plan_with_playbook(
        &self,
        request: &EnrichedRequest,
        id: &str,
        confidence: f32,
        timestamp: &str,
    ) -> Result<PlanResponse> {
        check_request(request)?;
        let loaded = self
            .library
            .get(id)
            .ok_or_else(|| Error::InvalidRequest(format!("no playbook {id}")))?;
        let covered = request.identified_resources.iter().all(|resource| {
            loaded
                .playbook
                .resource_types
                .iter()
                .any(|kind| kind == resource.resource_type.as_str())
        });
        if request.identified_resources.is_empty() || !covered {
            return Err(Error::InvalidRequest(format!(
                "playbook {id} does not apply to these resources"
            )));
        }
        let classification = classify(&request.prompt);
        if !classification.is_action() {
            let mut plan = refusal(classification.decline().unwrap_or_default(), Vec::new());
            plan.intent_class = Some(classification.class);
            return Ok(plan);
        }
        let mut plan = self.render_plan(
            request,
            &loaded.playbook,
            confidence.clamp(0.0, 0.99),
            Vec::new(),
            timestamp,
        );
        plan.intent_class = Some(classification.class);
        Ok(plan)
    }

    fn render_plan(
        &self,
        request: &EnrichedRequest,
        playbook: &Playbook,
        confidence: f32,
        alternatives: Vec<PlaybookSummary>,
        timestamp: &str,
    ) -> PlanResponse {
        let rendered = render(
            playbook,
            &request.identified_resources,
            &RenderInput { prompt: &request.prompt, parameters: &request.parameters, timestamp },
        );
        let executable = rendered.blockers.is_empty();
        let explain_plan = if executable {
            rendered.explanation
        } else {
            format!("Nothing will run: {}. ({})", rendered.blockers.join("; "), playbook.title)
        };
        let commit = match self.library.origin() {
            Origin::Directory { commit, .. } => commit.clone(),
            Origin::Builtin { .. } => None,
        };
        PlanResponse {
            explain_plan,
            script: rendered.script,
            risk_assessment: rendered.risk,
            approval_required: rendered.approval_required,
            playbook: Some(PlaybookRef {
                id: playbook.id.clone(),
                version: playbook.version.clone(),
                commit,
            }),
            executable,
            intent_class: None,
            intent: Some(Intent {
                operation: playbook.operation.clone(),
                service: playbook.service.as_str().to_owned(),
                confidence,
            }),
            rollback: rendered.rollback,
            verification: rendered.verification,
            required_permissions: if executable {
                playbook.permissions.clone()
            } else {
                Vec::new()
            },
            alternatives: alternatives.into_iter().filter(|a| a.id != playbook.id).collect(),
            skipped: if executable { rendered.skipped } else { Vec::new() },
        }
    }
}

/// A non-executable answer.
fn refusal(explain_plan: String, alternatives: Vec<PlaybookSummary>) -> PlanResponse {
    PlanResponse {
        explain_plan,
        script: Script::default(),
        risk_assessment: RiskAssessment {
            level: RiskLevel::Low,
            reasons: Vec::new(),
            impact: "Nothing will run".into(),
        },
        approval_required: false,
        playbook: None,
        executable: false,
        skipped: Vec::new(),
        intent: None,
        intent_class: None,
        rollback: Script::default(),
        verification: Script::default(),
        required_permissions: Vec::new(),
        alternatives,
    }
}

/// Words of a playbook's texts that name an operation (title and examples contribute only
/// these; the operation id contributes all its words but the generic ones).
const OPERATION_VOCABULARY: &[&str] = &[
    "stop",
    "halt",
    "shut",
    "pause",
    "park",
    "start",
    "boot",
    "power",
    "wake",
    "spin",
    "reboot",
    "restart",
    "bounce",
    "terminate",
    "kill",
    "nuke",
    "destroy",
    "decommission",
    "delete",
    "remove",
    "drop",
    "tear",
    "purge",
    "wipe",
    "empty",
    "clear",
    "clean",
    "snapshot",
    "snap",
    "backup",
    "image",
    "ami",
    "bake",
    "resize",
    "scale",
    "upsize",
    "downsize",
    "shrink",
    "upgrade",
    "downgrade",
    "bigger",
    "larger",
    "smaller",
    "type",
    "class",
    "tag",
    "label",
    "untag",
    "strip",
    "protection",
    "protect",
    "unprotect",
    "termination",
    "deletion",
    "lock",
    "guard",
    "multi",
    "az",
    "standby",
    "availability",
    "single",
    "failover",
    "retention",
    "retain",
    "pitr",
    "automated",
    "automatic",
    "versioning",
    "version",
    "encryption",
    "encrypt",
    "kms",
    "sse",
    "aes",
    "cmk",
    "public",
    "private",
    "publicly",
    "bpa",
    "block",
    "unblock",
    "logging",
    "log",
    "request",
    "idle",
    "timeout",
    "memory",
    "ram",
    "concurrency",
    "concurrent",
    "reserved",
    "reserve",
    "cap",
    "throttle",
    "unthrottle",
    "invocation",
    "execution",
    "publish",
    "alias",
    "rollback",
    "roll",
    "revert",
    "register",
    "deregister",
    "target",
    "rotation",
    "traffic",
    "drain",
    "host",
    "hardware",
    "migrate",
    "move",
    "relocate",
    "retirement",
    "cycle",
    "suspend",
    "readable",
    "capacity",
    "oom",
    "timing",
    "cpu",
];

/// Words too generic to be evidence of one operation when the operation id has others.
const GENERIC: &[&str] = &[
    "enable", "disable", "set", "change", "update", "modify", "create", "make", "new", "add",
    "remove", "delete", "to", "of", "on", "off", "the", "a", "an", "and", "with", "from",
    "default", "access",
];

/// Particles that complete an example's leading verb ("back up", "turn on").
const PARTICLES: &[&str] = &["up", "back", "down", "out", "over", "away"];

/// Words of the examples that carry no operation: never evidence.
const FILLER: &[&str] = &[
    "the",
    "and",
    "for",
    "its",
    "this",
    "that",
    "these",
    "those",
    "all",
    "every",
    "our",
    "your",
    "now",
    "please",
    "can",
    "you",
    "will",
    "would",
    "could",
    "should",
    "need",
    "needs",
    "want",
    "let",
    "get",
    "got",
    "put",
    "just",
    "one",
    "two",
    "into",
    "onto",
    "out",
    "over",
    "before",
    "after",
    "while",
    "during",
    "again",
    "then",
    "than",
    "are",
    "was",
    "were",
    "been",
    "being",
    "has",
    "have",
    "had",
    "not",
    "but",
    "some",
    "any",
    "each",
    "both",
    "same",
    "them",
    "they",
    "their",
    "there",
    "here",
    "what",
    "which",
    "who",
    "how",
    "when",
    "where",
    "why",
    "prod",
    "production",
    "staging",
    "stage",
    "dev",
    "development",
    "test",
    "env",
    "environment",
    "account",
    "region",
    "named",
    "called",
    "via",
    "using",
    "use",
    "per",
    "today",
    "tonight",
];

/// Names of resources: never evidence of an operation.
const RESOURCE_NOUNS: &[&str] = &[
    "instance", "ec2", "rds", "db", "database", "bucket", "s3", "function", "lambda", "load",
    "balancer", "elbv2", "server", "box", "vm", "machine", "disk", "volume", "cluster",
];

/// Synonyms operators use for the library's words: (synonym, word).
const SYNONYMS: &[(&str, &str)] = &[
    ("shutdown", "stop"),
    ("halt", "stop"),
    ("restart", "reboot"),
    ("reboot", "restart"),
    ("bounce", "reboot"),
    ("kill", "terminate"),
    ("nuke", "terminate"),
    ("destroy", "delete"),
    ("erase", "delete"),
    ("remove", "delete"),
    ("decommission", "delete"),
    ("delete", "terminate"),
    ("snap", "snapshot"),
    ("backup", "snapshot"),
    ("ami", "image"),
    ("boot", "start"),
    ("wake", "start"),
    ("upsize", "resize"),
    ("downsize", "resize"),
    ("shrink", "resize"),
    ("label", "tag"),
    ("unlabel", "untag"),
    ("ha", "multi"),
    ("ram", "memory"),
    ("oom", "memory"),
    ("pitr", "automated"),
    ("encrypt", "encryption"),
    ("versioned", "versioning"),
    ("revert", "rollback"),
    ("unprotect", "protection"),
    ("protect", "protection"),
];

/// A word's stem: plural, `-ing`, `-ed` and a final `e` removed (`stopped` → `stop`,
/// `enabled` → `enabl`, `snapshots` → `snapshot`).
fn stem(word: &str) -> String {
    let mut w = word.trim_end_matches("'s").to_lowercase();
    for suffix in ["ing", "ed"] {
        if w.len() > suffix.len() + 3 && w.ends_with(suffix) {
            w.truncate(w.len() - suffix.len());
            let bytes = w.as_bytes();
            if bytes.len() >= 2
                && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
                && !matches!(bytes[bytes.len() - 1], b'l' | b's' | b'z')
            {
                w.pop();
            }
            break;
        }
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w.pop();
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// The evidence words of `playbook`'s operation (stemmed).
fn operation_vocabulary(playbook: &Playbook) -> BTreeSet<String> {
    let generic: BTreeSet<String> = GENERIC.iter().map(|w| stem(w)).collect();
    let nouns: BTreeSet<String> = RESOURCE_NOUNS.iter().map(|w| stem(w)).collect();
    let known: BTreeSet<String> = OPERATION_VOCABULARY.iter().map(|w| stem(w)).collect();
    let id_words: Vec<String> =
        playbook.operation.split('_').map(stem).filter(|w| !nouns.contains(w)).collect();
    let distinctive: Vec<String> =
        id_words.iter().filter(|w| !generic.contains(*w)).cloned().collect();
    let mut words: BTreeSet<String> = if distinctive.is_empty() {
        id_words.into_iter().collect()
    } else {
        distinctive.into_iter().collect()
    };
    // Known operation words anywhere in the title and examples; and each example's leading
    // verb with its particle ("turn it back on", "give it more memory", "bring it back"):
    // how operators phrase the operation. Other words (the nouns and adjectives of an
    // example: "root", "cache", "build") are not evidence.
    let filler: BTreeSet<String> = FILLER.iter().map(|w| stem(w)).collect();
    for text in std::iter::once(&playbook.title).chain(&playbook.examples) {
        let text_words: Vec<String> = operator_words(text).iter().map(|w| stem(w)).collect();
        let leading = text_words.iter().skip_while(|w| filler.contains(*w)).take(1);
        let particle = text_words
            .iter()
            .skip_while(|w| filler.contains(*w))
            .nth(1)
            .filter(|w| PARTICLES.contains(&w.as_str()));
        for word in &text_words {
            if known.contains(word) && !generic.contains(word) {
                words.insert(word.clone());
            }
        }
        for word in leading.chain(particle) {
            if word.chars().all(char::is_alphabetic)
                && !nouns.contains(word)
                && !generic.contains(word)
            {
                words.insert(word.clone());
            }
        }
    }
    for (synonym, word) in SYNONYMS {
        if words.contains(&stem(word)) {
            words.insert(stem(synonym));
        }
    }
    words
}

/// The prompt without the resources' names, ids and ARNs: what is left says what to do,
/// and is all of the prompt that retrieval (and an optional advisor) sees.
pub fn retrieval_text(prompt: &str, resources: &[IdentifiedResource]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for resource in resources {
        names.extend(resource.identifier());
        names.extend(resource.name.as_deref());
        names.extend(resource.arn.as_deref());
    }
    prompt
        .split_whitespace()
        .filter(|word| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
            !names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(bare) || name.eq_ignore_ascii_case(word))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Untrusted text quoted back: control characters removed, length bounded.
fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean
}

fn check_request(request: &EnrichedRequest) -> Result<()> {
    let invalid = |message: String| Err(Error::InvalidRequest(message));
    if request.prompt.trim().is_empty() {
        return invalid("prompt is empty".into());
    }
    if request.prompt.len() > MAX_PROMPT_BYTES {
        return invalid(format!("prompt is longer than {MAX_PROMPT_BYTES} bytes"));
    }
    if request.identified_resources.len() > MAX_RESOURCES {
        return invalid(format!("more than {MAX_RESOURCES} resources in one request"));
    }
    for (position, resource) in request.identified_resources.iter().enumerate() {
        let at = |what: String| format!("identified_resources[{position}]: {what}");
        let kind = resource.resource_type.as_str();
        let known = cloudops_core::ResourceType::KNOWN.iter().any(|known| known.as_str() == kind);
        if !known {
            return invalid(at(format!("resource_type {kind:?} is not one this planner knows")));
        }
        if resource.account_id.len() != 12
            || !resource.account_id.chars().all(|c| c.is_ascii_digit())
        {
            return invalid(at(format!(
                "account_id {:?} is not a 12-digit AWS account id",
                resource.account_id
            )));
        }
        if !valid_region(&resource.region) {
            return invalid(at(format!("region {:?} is not an AWS region name", resource.region)));
        }
        match resource.identifier() {
            None => {
                return invalid(at(
                    "no identifier (id, or a field such as db_instance_identifier)".into(),
                ));
            }
            Some(id) if !valid_identifier(id) => {
                return invalid(at(format!(
                    "identifier {:?} has characters AWS identifiers never have",
                    printable(id)
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// AWS region names: `us-west-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`.
fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts.iter().all(|p| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
        && region.len() <= 32
}

/// Identifiers, names and ARNs of the covered services: no spaces, no leading `-`, no shell
/// or control characters.
fn valid_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 2048
        && !id.starts_with('-')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/+=@,".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_identifiers() {
        for good in ["us-west-2", "eu-central-1", "us-gov-west-1", "ap-southeast-3"] {
            assert!(valid_region(good), "{good}");
        }
        for bad in ["", "us", "us-west", "US-WEST-2", "us-west-2; rm", "us_west_2"] {
            assert!(!valid_region(bad), "{bad}");
        }
        assert!(valid_identifier(
            "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
        ));
        for bad in ["--endpoint-url=x", "a b", "a;b", "a\nb", "$(x)", ""] {
            assert!(!valid_identifier(bad), "{bad}");
        }
    }
}
