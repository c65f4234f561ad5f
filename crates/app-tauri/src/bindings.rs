//! The web UI's TypeScript types, generated from the Rust types the commands take and return
//! (ts-rs, with its serde compatibility: renames, tags, skipped and optional fields), into
//! one committed file, [`GENERATED`]. `ui/src/lib/types.ts` re-exports it and adds only the
//! types that exist in the UI alone.
//!
//! The test here fails when the committed file is not what the Rust types generate now;
//! [`REGENERATE`] rewrites it. The libraries derive `ts_rs::TS` behind their `ts` feature,
//! which only this crate's dev-dependencies turn on, so no shipped build carries ts-rs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cloudops_core::ErrorKind;
use ts_rs::{Config, TS, TypeVisitor};

/// The generated file, relative to this crate.
const GENERATED: &str = "ui/src/lib/generated/bindings.ts";

/// Set to rewrite [`GENERATED`] instead of comparing with it.
const UPDATE_ENV: &str = "CLOUDOPS_UPDATE_BINDINGS";

/// The command that rewrites [`GENERATED`].
const REGENERATE: &str = "CLOUDOPS_UPDATE_BINDINGS=1 cargo test -p app-tauri --lib bindings";

/// Every type a command takes or returns (with the types they name, found by ts-rs), and
/// the error every command rejects with.
fn declarations() -> Declarations {
    let mut out = Declarations::new();
    // Status line, explorer and chat.
    out.add::<crate::views::AppInfo>();
    out.add::<crate::views::SearchRequest>();
    out.add::<cloudops_core::LookupResponse>();
    out.add::<cloudops_core::Resource>();
    out.add::<crate::views::Facets>();
    out.add::<cloudops_assist::Resolution>();
    out.add::<cloudops_assist::Proposal>();
    out.add::<cloudops_assist::ApprovalInput>();
    out.add::<cloudops_assist::ExecutionEvent>();
    out.add::<cloudops_assist::ExecutionReport>();
    out.add::<cloudops_assist::PendingExecution>();
    out.add::<cloudops_assist::OperationAccess>();
    out.add::<cloudops_assist::Answer>();
    out.add::<cloudops_assist::Fleet>();
    out.add::<cloudops_assist::TargetReport>();
    // Estate: sync and accounts.
    out.add::<cloudops_sync::ScopeStatus>();
    out.add::<cloudops_sync::SyncEvent>();
    out.add::<cloudops_sync::SyncReport>();
    out.add::<crate::views::AccountsView>();
    // Settings and history.
    out.add::<crate::views::Settings>();
    out.add::<crate::views::HistoryView>();
    out.add::<crate::views::AuditRecordView>();
    // Errors: `CommandError::kind` is named by `error::kind_name`, one name per kind.
    out.add::<crate::error::CommandError>();
    out.add_raw("ErrorKind", " Whose fault an error is.", &error_kind());
    out
}

/// The TypeScript union of [`crate::error::kind_name`]'s names.
fn error_kind() -> String {
    let kinds = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];
    for kind in kinds {
        // A kind added to core fails to compile here until it is listed above.
        match kind {
            ErrorKind::InvalidInput
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::Unavailable
            | ErrorKind::Internal => {}
        }
    }
    let names: Vec<String> =
        kinds.into_iter().map(|kind| format!("\"{}\"", crate::error::kind_name(kind))).collect();
    format!("type ErrorKind = {};", names.join(" | "))
}

/// Declarations by TypeScript name, each with the ones it depends on.
struct Declarations {
    config: Config,
    by_name: BTreeMap<String, Declaration>,
}

struct Declaration {
    docs: String,
    decl: String,
    rust: &'static str,
}

impl Declarations {
    fn new() -> Self {
        // u64 and usize are counts, sizes and durations well below 2^53: numbers in JSON.
        Declarations { config: Config::new().with_large_int("number"), by_name: BTreeMap::new() }
    }

    /// Declares `T` and, recursively, every type it names. Types that have no declaration of
    /// their own (primitives, containers) are skipped; two Rust types may share a name only
    /// with the same declaration (a type and the shape it is serialized as).
    fn add<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident(&self.config);
        let decl = T::decl(&self.config);
        let rust = std::any::type_name::<T>();
        if let Some(known) = self.by_name.get(&name) {
            assert_eq!(
                known.decl, decl,
                "{} and {rust} are both `{name}` in TypeScript, declared differently",
                known.rust
            );
            return;
        }
        let docs = T::docs().unwrap_or_default();
        self.by_name.insert(name, Declaration { docs, decl, rust });
        T::visit_dependencies(self);
    }

    /// Declares `name` as `decl`, written here rather than derived.
    fn add_raw(&mut self, name: &str, docs: &str, decl: &str) {
        let docs = ts_rs::format_docs(&[docs]);
        let declaration = Declaration { docs, decl: decl.to_owned(), rust: "bindings.rs" };
        assert!(self.by_name.insert(name.to_owned(), declaration).is_none(), "{name} twice");
    }

    /// The file: a header, then every declaration in alphabetical order (lines without
    /// ts-rs's trailing spaces).
    fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("// Generated from the Rust types by crates/app-tauri/src/bindings.rs (ts-rs): do not edit.\n");
        out.push_str(&format!("// Regenerate with: {REGENERATE}\n"));
        for declaration in self.by_name.values() {
            out.push('\n');
            out.push_str(&declaration.docs);
            out.push_str("export ");
            out.push_str(&declaration.decl);
            out.push('\n');
        }
        out.lines().map(|line| format!("{}\n", line.trim_end())).collect()
    }
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        self.add::<T>();
    }
}

#[test]
fn the_ui_types_are_generated_from_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
    let generated = declarations().render();
    if std::env::var_os(UPDATE_ENV).is_some() {
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("create the directory");
        std::fs::write(&path, &generated).expect("write the bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(old, new)| old != new)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{} is stale (first difference at line {}): the Rust types the commands exchange \
             changed; regenerate it with `{REGENERATE}` and commit it",
            path.display(),
            line + 1
        );
    }
}

#[test]
fn serde_shapes_the_ui_relies_on() {
    // The declarations say what serde writes; spot-check the reshaped one (a sync note is
    // views.rs's test).
    let not_found = cloudops_assist::Resolution::NotFound { notes: vec!["none".into()] };
    assert_eq!(
        serde_json::to_value(&not_found).expect("JSON"),
        serde_json::json!({"kind": "not_found", "candidates": [], "notes": ["none"]})
    );
    let bindings = declarations().render();
    for expected in [
        r#"export type ErrorKind = "invalid_input" | "not_found" | "conflict" | "unavailable" | "internal";"#,
        r#"{ "event": "note","#,
        r#"{ "kind": "not_found", candidates: [], notes: Array<string>, }"#,
    ] {
        assert!(bindings.contains(expected), "{expected}\nnot in\n{bindings}");
    }
}
