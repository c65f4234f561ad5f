//! What the operator asks for, before anything is planned: a deterministic, offline
//! classification of a prompt as an action, a question, a negated or hypothetical request,
//! something out of scope, or unclear.
//!
//! Only an [`IntentClass::Action`] may produce an executable plan. The client runs
//! [`classify`] before it plans, the planner runs it again on what it receives, and the
//! client's check of a server's plan runs it a third time, so a confused or compromised
//! server cannot turn a question into a change.
//!
//! The rules read the operator's words only: quoted text (`"…"`, `` `…` ``, `'…'`, `“…”`)
//! and tokens that look like names, ids, ARNs, tags or sizes (with a digit, `-`, `_`, `.`,
//! `=`, `/`, `:` or `@`) are set aside first, so a resource called `dont-stop-me` or a tag
//! value `"what if we delete it?"` changes nothing. Input is bounded
//! ([`MAX_CLASSIFIED_BYTES`]); full-width letters, curly quotes and zero-width characters
//! are normalized.
//!
//! In order, the first rule that applies decides:
//! 1. a negation that governs what to do (`don't stop`, `do not`, `never delete`, `no need
//!    to`, `stop me from`, `never mind`, `hold off`) or a hypothetical (`should I`, `what if`,
//!    `what would happen`, `would it be safe to`, `could I`, `can we`, `is it ok to`,
//!    `suppose`): [`IntentClass::NegatedOrHypothetical`]. `don't` is a negation of the
//!    request only where the operator speaks (a clause's start, or after `I`/`we`/`please`),
//!    and not before `need`/`have` without `to` ("X doesn't need backups, disable them" is an
//!    action), `be`, `forget` or `worry`;
//! 2. greetings, thanks and other chit-chat with no operation, or requests about something
//!    other than AWS (a joke, a poem, the weather): [`IntentClass::OutOfScope`];
//! 3. a sentence that asks: starting with a wh-word, an inverted auxiliary (`is`, `are`,
//!    `does`, `has`…), a reading verb (`list`, `show`, `count`, `describe`, `check`, `find`,
//!    `tell me`…), or ending with `?`: [`IntentClass::Question`]. Requests addressed to the
//!    assistant (`can you`, `could you`, `would you`, `will you`, `please`) are read without
//!    that prefix, so "can you stop X?" is an action;
//! 4. an operation: an operation verb (`stop`, `reboot`, `terminate`, `snapshot`, `resize`,
//!    `tag`, `enable`, `encrypt`, `rotate`, `invalidate`, `purge`…, with typos of one letter
//!    corrected), a phrasal verb (`turn off`, `shut down`, `bring back`), or a light verb
//!    (`make`, `give`, `keep`, `needs`, `fix`…) with an operation word (`private`,
//!    `multi-az`, `versioning`, `memory`, a size such as `m5.large`): [`IntentClass::Action`].
//!    Whether the library covers the operation for the resource is the planner's decision;
//! 5. a status word alone (`pg-instance-main1 status`): [`IntentClass::Question`];
//! 6. anything else (`make it faster`, `fix X`, a bare name): [`IntentClass::Unclear`].
//!
//! ```
//! use cloudops_core::{IntentClass, classify};
//!
//! assert_eq!(classify("Stop pg-instance-main1").class, IntentClass::Action);
//! assert_eq!(classify("can you stop pg-instance-main1?").class, IntentClass::Action);
//! assert_eq!(classify("don't stop pg-instance-main1").class, IntentClass::NegatedOrHypothetical);
//! assert_eq!(classify("is pg-instance-main1 backed up?").class, IntentClass::Question);
//! assert_eq!(classify("thanks!").class, IntentClass::OutOfScope);
//! assert_eq!(classify("make pg-instance-main1 faster").class, IntentClass::Unclear);
//! ```

use serde::{Deserialize, Serialize};

/// At most this much of a prompt is read (the planner refuses longer prompts anyway).
pub const MAX_CLASSIFIED_BYTES: usize = 4096;

/// What kind of request a prompt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IntentClass {
    /// A change to named resources: the only class that may produce an executable plan.
    Action,
    /// A read-only question: status, counts, lists, owners, "is it backed up". Answered by
    /// the client; never planned.
    Question,
    /// A request not to act ("don't", "never", "no need to"), or about what would happen
    /// ("should I", "what if"). Never executable; a hypothetical may be shown as a preview.
    NegatedOrHypothetical,
    /// No AWS operation: chit-chat, thanks, requests about something else.
    OutOfScope,
    /// No operation could be recognised.
    Unclear,
}

impl IntentClass {
    /// The class's name as serialized: `action`, `question`, `negated_or_hypothetical`,
    /// `out_of_scope`, `unclear`.
    pub fn as_str(self) -> &'static str {
        match self {
            IntentClass::Action => "action",
            IntentClass::Question => "question",
            IntentClass::NegatedOrHypothetical => "negated_or_hypothetical",
            IntentClass::OutOfScope => "out_of_scope",
            IntentClass::Unclear => "unclear",
        }
    }
}

impl std::fmt::Display for IntentClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a prompt and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The class.
    pub class: IntentClass,
    /// The operation word the prompt asks for, spelled correctly (`stop` for "stopp"), when
    /// one was found, whatever the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The words that decided the class: `don't`, `what if`, `how many`, `?`, `can you`…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
    /// Whether a negation (rather than a hypothetical) made the class
    /// [`IntentClass::NegatedOrHypothetical`].
    #[serde(default)]
    pub negated: bool,
}

impl Classification {
    /// Whether the prompt asks for a change (the only class that may be planned to run).
    pub fn is_action(&self) -> bool {
        self.class == IntentClass::Action
    }

    /// Whether the prompt asks what an operation would do: hypothetical, with an operation.
    /// Such a prompt may get a plan marked not executable, as a preview.
    pub fn is_preview(&self) -> bool {
        self.class == IntentClass::NegatedOrHypothetical
            && !self.negated
            && self.operation.is_some()
    }

    /// Why nothing will run, in a sentence for the operator; `None` for an action.
    pub fn decline(&self) -> Option<String> {
        let cues = if self.cues.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                self.cues.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
            )
        };
        Some(match self.class {
            IntentClass::Action => return None,
            IntentClass::Question => format!(
                "This is a question{cues}; questions are answered by the client, nothing was planned."
            ),
            IntentClass::NegatedOrHypothetical if self.negated => format!(
                "The request says not to act{cues}, so nothing was planned and nothing will run."
            ),
            IntentClass::NegatedOrHypothetical => format!(
                "The request is hypothetical{cues}: nothing will run. Ask for the change itself to get a plan."
            ),
            IntentClass::OutOfScope => {
                "This asks for no AWS operation, so nothing was planned.".to_owned()
            }
            IntentClass::Unclear => match &self.operation {
                Some(operation) => format!(
                    "\"{operation}\" does not say which operation to run, so nothing was planned."
                ),
                None => {
                    "No operation was recognised in the request, so nothing was planned.".to_owned()
                }
            },
        })
    }
}

/// Classifies `prompt`. Deterministic, offline, never panics; reads at most
/// [`MAX_CLASSIFIED_BYTES`].
pub fn classify(prompt: &str) -> Classification {
    let sentences = sentences(&tokens(&normalize(prompt)));
    let mut cues: Vec<String> = Vec::new();
    let mut negated = false;
    let mut hypothetical = false;
    let mut question = false;
    let mut operation: Option<String> = None;
    let mut status_word = false;
    let mut chat = true;
    let mut off_topic = false;
    let mut any_word = false;
    for sentence in &sentences {
        let analysis = analyse(sentence);
        if operation.is_none() {
            operation = analysis.operation.clone();
        }
        negated |= !analysis.negation.is_empty();
        hypothetical |= !analysis.hypothetical.is_empty();
        question |= !analysis.question.is_empty();
        status_word |= analysis.status_word;
        off_topic |= analysis.off_topic;
        chat &= analysis.chat;
        any_word |= analysis.words > 0;
        cues.extend(analysis.negation);
        cues.extend(analysis.hypothetical);
        if !negated && !hypothetical {
            cues.extend(analysis.question);
        }
    }
    let class = if negated || hypothetical {
        IntentClass::NegatedOrHypothetical
    } else if operation.is_none() && any_word && (chat || off_topic) {
        IntentClass::OutOfScope
    } else if question {
        IntentClass::Question
    } else if operation.is_some() {
        IntentClass::Action
    } else if status_word {
        IntentClass::Question
    } else {
        IntentClass::Unclear
    };
    if class != IntentClass::Question && class != IntentClass::NegatedOrHypothetical {
        cues.clear();
    }
    cues.dedup();
    cues.truncate(8);
    Classification { class, operation, cues, negated }
}

/// The operator's own words in `prompt`, lowercased, in order: quoted text and tokens that
/// look like names, ids, tags or sizes left out (see the module documentation).
pub fn operator_words(prompt: &str) -> Vec<String> {
    tokens(&normalize(prompt))
        .into_iter()
        .filter_map(|token| match token {
            Token::Word(word) => Some(word),
            Token::Name(_) | Token::Break { .. } => None,
        })
        .collect()
}

/// Whether `word` is `known` misspelt by one edit (an insertion, deletion, substitution or
/// swap of neighbours; two for words of eight letters or more), with the same first letter.
/// Words shorter than four letters are never corrected.
pub fn similar_spelling(word: &str, known: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (word.chars().collect(), known.chars().collect());
    if a.len() < 4 || b.len() < 4 || a.first() != b.first() || a == b {
        return false;
    }
    let allowed = if b.len() >= 8 { 2 } else { 1 };
    if a.len().abs_diff(b.len()) > allowed {
        return false;
    }
    strsim::osa_distance(word, known) <= allowed
}

// --- Normalization and tokens ---------------------------------------------------------

/// Bounded, lowercased, with full-width forms, curly quotes and invisible characters mapped.
fn normalize(prompt: &str) -> String {
    let mut end = prompt.len().min(MAX_CLASSIFIED_BYTES);
    while !prompt.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end);
    for c in prompt[..end].chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(' '),
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{00B4}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{00AB}' | '\u{00BB}' | '\u{201E}' => '"',
            '\u{2013}' | '\u{2014}' => ',',
            '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => continue,
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// One of the operator's words.
    Word(String),
    /// A name, id, tag, size or quoted text: never read as the operator's words.
    Name(String),
    /// A clause boundary; `sentence` for `.`, `!`, `?`, `;`, with `asks` for `?`.
    Break { sentence: bool, asks: bool },
}

/// Hyphenated words that are vocabulary, not names.
const HYPHENATED: &[(&str, &[&str])] = &[
    ("multi-az", &["multi", "az"]),
    ("single-az", &["single", "az"]),
    ("stop-start", &["stop", "start"]),
    ("re-enable", &["reenable"]),
    ("point-in-time", &["point", "in", "time"]),
    ("world-readable", &["world", "readable"]),
    ("read-only", &["read", "only"]),
    ("sse-s3", &["sse"]),
    ("sse-kms", &["sse", "kms"]),
    ("aes-256", &["aes"]),
    ("aes256", &["aes"]),
    ("e-mail", &["email"]),
    ("set-up", &["setup"]),
    ("shut-down", &["shut", "down"]),
    ("back-up", &["back", "up"]),
];

fn tokens(text: &str) -> Vec<Token> {
    let text = strip_quoted(text);
    let mut out = Vec::new();
    for raw in text.split(' ').filter(|s| !s.is_empty()) {
        if raw == "\u{1}" {
            out.push(Token::Name("\"…\"".into()));
            continue;
        }
        let trimmed_end = raw.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let tail = &raw[trimmed_end.len()..];
        let core = trimmed_end
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '$')
            .trim_matches('\'');
        let core = core.strip_suffix("'s").unwrap_or(core);
        if !core.is_empty() {
            if let Some((_, words)) = HYPHENATED.iter().find(|(w, _)| *w == core) {
                out.extend(words.iter().map(|w| Token::Word((*w).to_owned())));
            } else if core.chars().any(|c| c.is_ascii_digit() || "-_.=/:@$#+%".contains(c))
                || !core.chars().any(char::is_alphabetic)
            {
                out.push(Token::Name(core.to_owned()));
            } else {
                out.push(Token::Word(core.to_owned()));
            }
        }
        if !tail.is_empty() {
            let asks = tail.contains('?');
            let sentence = asks || tail.contains(['.', '!', ';']);
            if sentence || tail.contains([',', ':', ')', '(']) {
                out.push(Token::Break { sentence, asks });
            }
        }
    }
    out
}

/// `text` with quoted spans replaced by a placeholder (`\u{1}`); an unclosed quote runs to
/// the end.
fn strip_quoted(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens_single = c == '\''
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && chars.get(i + 1).is_some_and(|n| !n.is_whitespace());
        if c == '"' || c == '`' || opens_single {
            let mut j = i + 1;
            while j < chars.len() {
                let closes = chars[j] == c
                    && (c != '\'' || chars.get(j + 1).is_none_or(|n| !n.is_alphanumeric()));
                if closes {
                    break;
                }
                j += 1;
            }
            out.push_str(" \u{1} ");
            i = j + 1;
            // Punctuation right after the quote still separates clauses.
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Tokens split into sentences at `.`, `!`, `?`, `;`; commas stay, as clause breaks.
fn sentences(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut all = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        let ends = matches!(token, Token::Break { sentence: true, .. });
        current.push(token.clone());
        if ends {
            all.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        all.push(current);
    }
    all
}

// --- Vocabulary ---------------------------------------------------------------------------

/// Verbs that name an operation on their own.
const OPERATION_VERBS: &[&str] = &[
    "stop",
    "halt",
    "shutdown",
    "start",
    "boot",
    "reboot",
    "restart",
    "bounce",
    "recycle",
    "terminate",
    "kill",
    "nuke",
    "destroy",
    "decommission",
    "delete",
    "remove",
    "drop",
    "erase",
    "wipe",
    "purge",
    "empty",
    "snapshot",
    "backup",
    "resize",
    "scale",
    "upsize",
    "downsize",
    "shrink",
    "grow",
    "upgrade",
    "downgrade",
    "tag",
    "untag",
    "label",
    "relabel",
    "enable",
    "disable",
    "reenable",
    "encrypt",
    "decrypt",
    "rotate",
    "invalidate",
    "throttle",
    "unthrottle",
    "publish",
    "rollback",
    "revert",
    "register",
    "deregister",
    "drain",
    "attach",
    "detach",
    "protect",
    "unprotect",
    "block",
    "unblock",
    "migrate",
    "relocate",
    "move",
    "suspend",
    "resume",
    "pause",
    "unpause",
    "park",
    "hibernate",
    "snooze",
    "increase",
    "decrease",
    "raise",
    "lower",
    "reduce",
    "bump",
    "cap",
    "limit",
    "reserve",
    "retain",
    "extend",
    "shorten",
    "convert",
    "deploy",
    "patch",
    "install",
    "replicate",
    "restore",
    "open",
    "close",
    "lock",
    "unlock",
    "reset",
    "provision",
    "launch",
    "create",
    "copy",
    "modify",
    "update",
    "change",
    "set",
    "configure",
    "trim",
    "cut",
    "bake",
    "clone",
    "archive",
    "add",
    "put",
    "apply",
    "invoke",
    "run",
    "execute",
    "flush",
    "deactivate",
    "activate",
    "allow",
    "deny",
    "revoke",
    "grant",
    "expire",
    "tear",
    "nix",
    "retire",
    "freeze",
    "unfreeze",
    "failover",
    "detag",
    "uninstall",
];

/// Verbs that name an operation with a particle (`turn off`, `bring back`).
const PARTICLE_VERBS: &[&str] = &[
    "turn", "switch", "power", "shut", "spin", "bring", "wake", "take", "pull", "clean", "clear",
    "kick", "roll", "go", "point", "get", "send", "lift", "knock", "fire", "swap", "back",
];

/// Particles for [`PARTICLE_VERBS`].
pub(crate) const PARTICLES: &[&str] = &[
    "on", "off", "up", "down", "back", "out", "over", "online", "offline", "rid", "again", "into",
    "behind",
];

/// Verbs that need an operation word to name an operation (`make … private`).
const LIGHT_VERBS: &[&str] = &[
    "make",
    "give",
    "let",
    "keep",
    "need",
    "needs",
    "want",
    "fix",
    "use",
    "ship",
    "log",
    "record",
    "capture",
    "guarantee",
    "should",
    "must",
    "has",
    "have",
    "do",
    "ensure",
    "leave",
    "free",
    "serve",
    "put",
    "sort",
];

/// Words that say which operation a light verb stands for.
const OPERATION_WORDS: &[&str] = &[
    "private",
    "public",
    "publicly",
    "multi",
    "az",
    "standby",
    "failover",
    "backup",
    "backups",
    "snapshot",
    "snapshots",
    "retention",
    "pitr",
    "versioning",
    "versioned",
    "version",
    "versions",
    "alias",
    "encryption",
    "encrypted",
    "kms",
    "sse",
    "aes",
    "tag",
    "tags",
    "label",
    "protection",
    "protected",
    "memory",
    "ram",
    "timeout",
    "concurrency",
    "concurrent",
    "throttled",
    "logging",
    "logs",
    "idle",
    "rotation",
    "target",
    "targets",
    "traffic",
    "bigger",
    "larger",
    "smaller",
    "ami",
    "image",
    "deletion",
    "termination",
    "readable",
    "cpu",
    "capacity",
    "run",
    "running",
    "invocations",
    "executions",
    "days",
    "seconds",
    "mb",
    "gb",
    "single",
    "ha",
    "availability",
    "cmk",
    "bpa",
    "rid",
];

/// Words that ask to read, at the start of a sentence.
const READ_VERBS: &[&str] = &[
    "list",
    "show",
    "display",
    "count",
    "find",
    "search",
    "describe",
    "check",
    "summarize",
    "summarise",
    "explain",
    "print",
    "view",
    "inspect",
    "audit",
    "compare",
    "lookup",
    "look",
    "report",
    "verify",
    "confirm",
    "enumerate",
    "query",
    "fetch",
    "see",
    "tell",
    "locate",
    "which",
    "whats",
];

const WH_WORDS: &[&str] = &[
    "what", "what's", "whats", "which", "who", "who's", "whose", "whom", "where", "where's",
    "when", "why", "how", "how's", "hows",
];

const AUXILIARIES: &[&str] = &[
    "is", "are", "was", "were", "does", "did", "has", "have", "had", "isn't", "aren't", "doesn't",
    "didn't", "hasn't", "haven't", "wasn't", "weren't", "am", "do",
];

/// Modal verbs: addressed to the assistant (`can you`) they make a request; otherwise a
/// hypothetical.
const MODALS: &[&str] = &[
    "can", "could", "would", "will", "may", "might", "shall", "should", "wouldn't", "couldn't",
    "won't", "can't", "cannot",
];

const ADDRESSEES: &[&str] = &["you", "u", "ya", "ye", "yall"];

/// Words skipped at the start of a sentence or clause.
const OPENERS: &[&str] = &[
    "please", "pls", "plz", "kindly", "and", "but", "so", "ok", "okay", "hey", "hi", "hello", "um",
    "hmm", "also", "then", "just", "btw", "now", "oh", "right", "quick", "quickly", "alright",
    "yo", "team", "folks", "guys", "urgent", "asap",
];

/// Negations of what to do, read where the operator speaks.
const NEGATION_HEADS: &[&str] = &["don't", "dont", "never", "mustn't", "shouldn't", "dnt"];

/// Negations whatever their position.
const NEGATION_PHRASES: &[&[&str]] = &[
    &["no", "need", "to"],
    &["no", "need", "for"],
    &["doesn't", "need", "to"],
    &["does", "not", "need", "to"],
    &["don't", "need", "to"],
    &["do", "not", "need", "to"],
    &["dont", "need", "to"],
    &["needn't"],
    &["stop", "me", "from"],
    &["stop", "us", "from"],
    &["prevent", "me", "from"],
    &["keep", "me", "from"],
    &["hold", "off"],
    &["refrain", "from"],
    &["never", "mind"],
    &["nevermind"],
    &["not", "now"],
    &["cancel", "that"],
    &["scratch", "that"],
    &["forget", "it"],
    &["forget", "about", "it"],
    &["avoid"],
    &["do", "not"],
    &["must", "not"],
    &["should", "not"],
];

/// Hypotheticals.
const HYPOTHETICAL_PHRASES: &[&[&str]] = &[
    &["what", "if"],
    &["what", "would"],
    &["what", "happens"],
    &["what", "will", "happen"],
    &["what", "could"],
    &["what", "are", "the", "risks"],
    &["what's", "the", "impact"],
    &["what", "is", "the", "impact"],
    &["would", "it"],
    &["would", "that"],
    &["is", "it", "safe"],
    &["is", "it", "ok"],
    &["is", "it", "okay"],
    &["is", "it", "possible"],
    &["is", "it", "a", "good", "idea"],
    &["is", "it", "wise"],
    &["is", "it", "risky"],
    &["should", "i"],
    &["should", "we"],
    &["could", "i"],
    &["could", "we"],
    &["can", "i"],
    &["can", "we"],
    &["may", "i"],
    &["might", "i"],
    &["do", "i", "need", "to"],
    &["do", "we", "need", "to"],
    &["do", "i", "have", "to"],
    &["do", "we", "have", "to"],
    &["suppose"],
    &["supposing"],
    &["imagine"],
    &["hypothetically"],
    &["hypothetical"],
    &["in", "theory"],
    &["if", "i", "were"],
    &["if", "we", "were"],
    &["if", "i"],
    &["if", "we"],
    &["how", "bad"],
    &["how", "risky"],
    &["would", "you", "recommend"],
    &["do", "you", "think"],
    &["any", "risk"],
    &["safe", "to"],
];

/// Chit-chat: a prompt made only of these words (and names) asks for nothing.
const CHAT: &[&str] = &[
    "thanks",
    "thank",
    "thx",
    "ty",
    "you",
    "so",
    "much",
    "hi",
    "hello",
    "hey",
    "there",
    "good",
    "morning",
    "night",
    "evening",
    "afternoon",
    "bye",
    "goodbye",
    "cheers",
    "mate",
    "ok",
    "okay",
    "cool",
    "great",
    "nice",
    "lol",
    "haha",
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "sure",
    "awesome",
    "you're",
    "youre",
    "are",
    "how",
    "that",
    "worked",
    "it",
    "welcome",
    "np",
    "appreciate",
    "appreciated",
    "a",
    "lot",
    "doing",
    "what's",
    "up",
    "sup",
    "perfect",
    "brilliant",
    "wow",
    "amazing",
    "well",
    "done",
    "job",
    "excellent",
    "fine",
    "all",
    "the",
    "best",
    "see",
    "ya",
    "later",
    "again",
    "very",
    "really",
    "helpful",
    "have",
    "day",
    "nice",
    "one",
];

/// Things nobody asks an AWS operations assistant to do.
const OFF_TOPIC: &[&str] = &[
    "joke",
    "jokes",
    "poem",
    "poems",
    "haiku",
    "weather",
    "recipe",
    "song",
    "lyrics",
    "story",
    "movie",
    "football",
    "lunch",
    "dinner",
    "essay",
    "limerick",
    "riddle",
    "horoscope",
];

/// Status words: a prompt of a name and one of these asks about the resource.
const STATUS_WORDS: &[&str] = &[
    "status",
    "state",
    "health",
    "healthy",
    "details",
    "detail",
    "info",
    "information",
    "uptime",
    "cost",
    "costs",
    "size",
    "owner",
    "region",
    "config",
    "configuration",
    "metrics",
    "usage",
    "summary",
    "overview",
    "retention",
];

/// Common words one letter away from a verb; never corrected to it.
const NOT_TYPOS: &[&str] = &[
    "step", "steps", "stat", "stats", "state", "store", "look", "rest", "half", "part", "wise",
    "smart", "stale", "remote", "stars", "start", "stack", "staff", "stuff", "table", "shop",
    "stow", "boat", "boots", "lock", "look", "last", "list", "lost", "most", "post", "host",
    "team", "tear", "year", "near", "clear", "clean", "black", "blog", "sale", "scare", "bill",
    "fill", "kiln", "wipe", "wife", "mode", "more", "move", "mote", "note", "role", "rule",
    "patch", "pitch", "catch", "watch", "match", "bump", "pump", "dump", "lamp", "open", "oven",
    "even", "over", "ever", "every", "reset", "asset", "resent", "reboot", "robot", "grow", "glow",
    "crow", "show", "slow", "snow", "know", "now", "down", "town", "own", "sleep", "some", "same",
    "cache", "cached", "cost", "costs", "copy", "cope", "code", "core", "cure", "care", "case",
    "cast", "drop", "drip", "prop", "crop", "shrink", "drink", "think", "things", "thing", "there",
    "these", "those", "where", "while", "white", "write", "wrote", "when", "then", "than", "that",
    "this", "them", "they", "their", "park", "dark", "mark", "bark", "pack", "back", "rack",
    "hack", "lack", "track", "trace", "truck", "tick", "kick", "kill", "will", "well", "wall",
    "tall", "call", "hall", "halt", "salt", "felt", "melt", "belt", "limit", "limits", "light",
    "right", "night", "might", "fight", "sight", "tight", "relay", "reply", "delay", "deploy",
    "employ", "enjoy", "create", "crate", "rate", "rated", "date", "data", "dates", "update",
    "upstate", "vacate", "locate", "rotate", "notate", "restore", "restart", "restarts",
    "restored", "enable", "unable", "able", "cable", "stable", "usable", "disable", "disabled",
    "label", "level", "lever", "novel", "model", "models",
];

fn contains(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}

/// `word` as one of the operation verbs, spelled right; typos of one letter are corrected
/// (not for inflected forms, which describe a state: "stopped", "running").
fn operation_verb(word: &str) -> Option<&'static str> {
    if let Some(verb) = OPERATION_VERBS.iter().find(|v| **v == word) {
        return Some(verb);
    }
    if word.len() < 4
        || word.ends_with("ed")
        || word.ends_with("ing")
        || contains(NOT_TYPOS, word)
        || is_known_word(word)
    {
        return None;
    }
    OPERATION_VERBS.iter().copied().filter(|v| v.len() >= 4).find(|v| similar_spelling(word, v))
}

/// Whether `word` is in one of the other word lists (so it is not a typo of a verb).
fn is_known_word(word: &str) -> bool {
    [
        PARTICLE_VERBS,
        PARTICLES,
        LIGHT_VERBS,
        OPERATION_WORDS,
        READ_VERBS,
        WH_WORDS,
        AUXILIARIES,
        MODALS,
        OPENERS,
        CHAT,
        OFF_TOPIC,
        STATUS_WORDS,
    ]
    .iter()
    .any(|list| contains(list, word))
}

/// Names that carry an operation's value: an instance type or class (`m5.large`,
/// `db.r6g.xlarge`), a number, or a number with a unit (`512mb`, `300s`, `14d`).
fn is_value(name: &str) -> bool {
    let sizes = ["nano", "micro", "small", "medium", "large", "xlarge", "metal"];
    let bare = name.strip_prefix("db.").unwrap_or(name);
    let typed = bare.split_once('.').is_some_and(|(family, size)| {
        family.len() >= 2
            && family.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && family.chars().any(|c| c.is_ascii_digit())
            && sizes.iter().any(|s| size.ends_with(s))
    });
    let digits = name.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &name[digits.len()..];
    let number = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && ["", "s", "sec", "secs", "m", "min", "mins", "mb", "gb", "d", "days", "h", "ms"]
            .contains(&unit);
    typed || number || name.contains('=')
}

// --- One sentence -------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Analysis {
    operation: Option<String>,
    negation: Vec<String>,
    hypothetical: Vec<String>,
    question: Vec<String>,
    status_word: bool,
    chat: bool,
    off_topic: bool,
    words: usize,
}

fn analyse(sentence: &[Token]) -> Analysis {
    let words: Vec<&str> = sentence
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let asks = sentence.iter().any(|t| matches!(t, Token::Break { asks: true, .. }));
    let mut analysis = Analysis {
        words: words.len(),
        chat: words.iter().all(|w| contains(CHAT, w)),
        off_topic: words.iter().any(|w| contains(OFF_TOPIC, w)),
        status_word: words.iter().any(|w| contains(STATUS_WORDS, w)),
        ..Analysis::default()
    };

    // Clauses: the positions where the operator's words start.
    let mut starts = vec![true; 1];
    let mut flat: Vec<Option<&str>> = Vec::new(); // None for names
    for token in sentence {
        match token {
            Token::Word(w) => {
                flat.push(Some(w.as_str()));
                starts.push(false);
            }
            Token::Name(_) => {
                flat.push(None);
                starts.push(false);
            }
            Token::Break { .. } => {
                if let Some(last) = starts.last_mut() {
                    *last = true;
                }
            }
        }
    }
    // starts[i] says whether a clause starts at flat[i].
    let clause_start = |i: usize| -> bool {
        let mut j = i;
        loop {
            if starts.get(j).copied().unwrap_or(false) {
                return true;
            }
            if j == 0 {
                return true;
            }
            j -= 1;
            match flat[j] {
                Some(w) if contains(OPENERS, w) => continue,
                _ => return false,
            }
        }
    };
    let at = |i: usize| flat.get(i).copied().flatten();

    // Negation.
    for (i, word) in flat.iter().enumerate() {
        let Some(word) = *word else { continue };
        for phrase in NEGATION_PHRASES {
            if phrase.iter().enumerate().all(|(k, p)| at(i + k) == Some(*p)) {
                // "do not" and friends only where the operator speaks, like "don't".
                let positional = matches!(phrase[0], "do" | "must" | "should");
                if !positional || speaks(i, &flat, &clause_start) {
                    if positional && !governs(i + phrase.len(), &flat) {
                        continue;
                    }
                    analysis.negation.push(phrase.join(" "));
                }
            }
        }
        if contains(NEGATION_HEADS, word)
            && (word == "never" || speaks(i, &flat, &clause_start))
            && governs(i + 1, &flat)
        {
            analysis.negation.push(word.to_owned());
        }
    }

    // Hypotheticals.
    for i in 0..flat.len() {
        for phrase in HYPOTHETICAL_PHRASES {
            if phrase.iter().enumerate().all(|(k, p)| at(i + k) == Some(*p)) {
                analysis.hypothetical.push(phrase.join(" "));
            }
        }
        // "would rebooting X drop connections": a modal before an -ing form.
        if at(i).is_some_and(|w| matches!(w, "would" | "will" | "could" | "might"))
            && at(i + 1).is_some_and(|w| w.ends_with("ing"))
            && clause_start(i)
        {
            analysis.hypothetical.push(format!(
                "{} {}",
                at(i).unwrap_or(""),
                at(i + 1).unwrap_or("")
            ));
        }
    }

    // The sentence's start, without openers and a request to the assistant.
    let mut first = 0;
    while at(first).is_some_and(|w| contains(OPENERS, w)) {
        first += 1;
    }
    let mut polite = false;
    if at(first).is_some_and(|w| contains(MODALS, w))
        && at(first + 1).is_some_and(|w| contains(ADDRESSEES, w))
    {
        polite = true;
        first += 2;
        while at(first).is_some_and(|w| contains(OPENERS, w) || w == "mind") {
            first += 1;
        }
    } else if at(first).is_some_and(|w| contains(MODALS, w))
        && flat.len() > first + 1
        && analysis.hypothetical.is_empty()
        && !(at(first) == Some("should") && first > 0)
    {
        // "can pg-instance-main1 be stopped?": a question about what could be done.
        analysis.hypothetical.push(at(first).unwrap_or("").to_owned());
    }
    let head = at(first);
    let next = at(first + 1);
    if let Some(head) = head {
        let auxiliary = contains(AUXILIARIES, head)
            && (head != "do"
                || next.is_some_and(|n| {
                    matches!(n, "i" | "we" | "you" | "they" | "the" | "any" | "all" | "our" | "my")
                })
                || (flat.get(first + 1).is_some_and(Option::is_none)));
        let reading = contains(READ_VERBS, head)
            && (head != "tell" || next.is_some_and(|n| matches!(n, "me" | "us")))
            && (head != "look" || next.is_some_and(|n| matches!(n, "up" | "at" | "into" | "for")))
            && (head != "see" || !polite);
        if contains(WH_WORDS, head) || auxiliary || reading {
            analysis.question.push(head.to_owned());
        } else if (head == "get" || head == "give")
            && next.is_some_and(|n| matches!(n, "me" | "us"))
        {
            analysis.question.push(format!("{head} me"));
        }
    } else if flat.get(first).is_some_and(Option::is_none) {
        // A name first: "pg-instance-main1 backup retention?" is read by its words.
    }

    // Operations.
    let values = sentence.iter().any(|t| matches!(t, Token::Name(n) if is_value(n)));
    analysis.operation = operation_in(&flat, values);
    if asks && analysis.question.is_empty() && !(polite && analysis.operation.is_some()) {
        analysis.question.push("?".to_owned());
    }
    if polite && analysis.question.is_empty() {
        // A request: its class is its operation's (or unclear).
    }
    analysis
}

/// Whether position `i` is where the operator speaks: a clause's start, or after `I`,
/// `we`, `you`, `please`.
fn speaks(i: usize, flat: &[Option<&str>], clause_start: &dyn Fn(usize) -> bool) -> bool {
    clause_start(i)
        || (i > 0
            && flat[i - 1].is_some_and(|w| {
                matches!(w, "i" | "we" | "you" | "please" | "pls" | "i'd" | "we'd")
            }))
}

/// Whether the negation before position `i` governs what to do: skipping adverbs, the next
/// word is not `be`, `forget`, `worry`, nor `need`/`have` without `to`.
fn governs(mut i: usize, flat: &[Option<&str>]) -> bool {
    const ADVERBS: &[&str] = &[
        "ever",
        "even",
        "just",
        "really",
        "actually",
        "accidentally",
        "please",
        "yet",
        "you",
        "now",
        "again",
        "ever,",
    ];
    while flat.get(i).copied().flatten().is_some_and(|w| ADVERBS.contains(&w)) {
        i += 1;
    }
    match flat.get(i).copied().flatten() {
        None => flat.get(i).is_some(),
        Some("need" | "have" | "needs" | "has") => flat.get(i + 1).copied().flatten() == Some("to"),
        Some("be" | "forget" | "worry" | "hesitate" | "panic" | "know" | "think") => false,
        Some(_) => true,
    }
}

/// The operation a run of the operator's words asks for, if any.
fn operation_in(flat: &[Option<&str>], values: bool) -> Option<String> {
    let at = |i: usize| flat.get(i).copied().flatten();
    for (i, word) in flat.iter().enumerate() {
        let Some(word) = *word else { continue };
        if let Some(verb) = operation_verb(word) {
            // "tear", "take", "put" and "get" are phrasal; "set" and friends stand alone.
            if verb == "tear" && !matches!(at(i + 1), Some("down" | "apart")) {
                continue;
            }
            return Some(verb.to_owned());
        }
        if contains(PARTICLE_VERBS, word) {
            let particle = (1..=4).any(|k| at(i + k).is_some_and(|w| contains(PARTICLES, w)));
            let object = flat.iter().flatten().any(|w| contains(OPERATION_WORDS, w));
            if particle || object {
                return Some(word.to_owned());
            }
        }
    }
    for word in flat.iter().flatten() {
        if contains(LIGHT_VERBS, word) {
            let object = flat.iter().flatten().any(|w| contains(OPERATION_WORDS, w));
            if object || values {
                return Some((*word).to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_corrected_conservatively() {
        assert!(similar_spelling("stopp", "stop"));
        assert!(similar_spelling("stpo", "stop"));
        assert!(similar_spelling("teminate", "terminate"));
        assert!(!similar_spelling("top", "stop"));
        assert!(!similar_spelling("stop", "stop"));
        assert_eq!(operation_verb("rebot"), Some("reboot"));
        assert_eq!(operation_verb("stopped"), None);
        assert_eq!(operation_verb("step"), None);
    }

    #[test]
    fn quoted_text_and_names_are_not_the_operators_words() {
        assert_eq!(operator_words("stop \"don't stop\" dont-stop-me now"), ["stop", "now"]);
        assert_eq!(operator_words("ＳＴＯＰ web-1"), ["stop"]);
        assert!(is_value("m5.large") && is_value("db.r6g.xlarge") && is_value("512mb"));
        assert!(!is_value("pg-instance-main1"));
    }

    #[test]
    fn huge_input_is_bounded() {
        let prompt = format!("stop {}", "é?".repeat(100_000));
        let classified = classify(&prompt);
        assert_eq!(classified.operation.as_deref(), Some("stop"));
    }
}
