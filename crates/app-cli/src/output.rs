//! Rendering for people and scripts: lookup results as a table and as the stable JSON shape
//! scripts rely on, and plans as text.

use std::fmt::Write;

use cloudops_core::{EstateStats, LookupResponse, PlanResponse, Step};
use serde_json::{Value, json};

/// The `--json` object. Its shape is a contract: field names only ever get added.
pub fn json_response(response: &LookupResponse) -> Value {
    let results: Vec<Value> = response
        .results
        .iter()
        .map(|result| {
            let resource = &result.resource;
            json!({
                "arn": resource.arn,
                "resource_type": resource.resource_type,
                "name": resource.name,
                "id": resource.id,
                "account_id": resource.account_id,
                "account_name": resource.account_name,
                "region": resource.region,
                "state": resource.state,
                "tags": resource.tags,
                "score": (result.score * 1000.0).round() / 1000.0,
                "matched_by": result.matched_by,
            })
        })
        .collect();
    json!({
        "query": response.query,
        "took_us": response.took_us,
        "ambiguous": response.ambiguous,
        "results": results,
    })
}

/// Resource tags, names, prompts and command output are untrusted: keep control characters
/// (terminal escapes) and bidirectional overrides (text that displays as something else)
/// out.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(
                c,
                '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            );
            if c.is_control() || bidi { '?' } else { c }
        })
        .collect()
}

/// Left-aligned columns two spaces apart, headers first; cells are already clean.
pub fn columns<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&headers.map(str::to_owned));
    for row in rows {
        line(row);
    }
    out
}

/// A plain-text table of the results, with the notes and the ambiguity verdict.
pub fn table(response: &LookupResponse) -> String {
    let mut out = String::new();
    if response.results.is_empty() {
        out.push_str("no matching resources\n");
    } else {
        let rows: Vec<[String; 8]> = response
            .results
            .iter()
            .map(|result| {
                let resource = &result.resource;
                let account = if resource.account_name.is_empty() {
                    resource.account_id.clone()
                } else {
                    format!("{} ({})", resource.account_name, resource.account_id)
                };
                let id =
                    if resource.id == resource.name { String::new() } else { resource.id.clone() };
                [
                    format!("{:.2}", result.score),
                    serde_json::to_value(result.matched_by)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    resource.resource_type.to_string(),
                    clean(&resource.name),
                    clean(&id),
                    clean(&account),
                    clean(&resource.region),
                    clean(&resource.state),
                ]
            })
            .collect();
        let headers = ["SCORE", "MATCH", "TYPE", "NAME", "ID", "ACCOUNT", "REGION", "STATE"];
        out.push_str(&columns(&headers, &rows));
    }
    if response.ambiguous && response.results.len() > 1 {
        out.push_str("ambiguous: several resources match about equally; name one exactly\n");
    }
    for note in &response.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(
        out,
        "({} result{}, {:.1} ms{})",
        response.results.len(),
        if response.results.len() == 1 { "" } else { "s" },
        response.took_us as f64 / 1000.0,
        if response.semantic { ", semantic" } else { "" }
    );
    out
}

/// Counts for `estate stats`.
pub fn stats_table(stats: &EstateStats) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "resources: {}", stats.resources);
    let _ = writeln!(
        out,
        "embedder:  {}{}",
        stats.embedder,
        if stats.semantic { "" } else { " (no semantic search)" }
    );
    let _ = writeln!(out, "on disk:   {:.1} MiB", stats.disk_bytes as f64 / (1024.0 * 1024.0));
    for (title, counts) in [
        ("by type", &stats.by_type),
        ("by account", &stats.by_account),
        ("by region", &stats.by_region),
    ] {
        let _ = writeln!(out, "{title}:");
        for (key, count) in counts {
            let _ = writeln!(out, "  {key:<20} {count}");
        }
    }
    out
}

/// A step as the operator reads it: the command line, each argument shown so it reads back
/// as one word (it is never passed to a shell; this is display only).
fn command_line(step: &Step) -> String {
    let mut line = clean(&step.command);
    for argument in &step.args {
        let argument = clean(argument);
        let plain = !argument.is_empty()
            && argument.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/=,@+".contains(c));
        if plain {
            line.push(' ');
            line.push_str(&argument);
        } else {
            line.push_str(&format!(" '{}'", argument.replace('\'', "'\\''")));
        }
    }
    line
}

/// A plan as text: what will happen, the risk and why, the approval, the exact commands.
pub fn plan(plan: &PlanResponse) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", clean(&plan.explain_plan));
    let level = plan.risk_assessment.level;
    let reasons: Vec<String> = plan.risk_assessment.reasons.iter().map(|r| clean(r)).collect();
    let _ = writeln!(text, "risk: {level} ({})", reasons.join("; "));
    let _ = writeln!(
        text,
        "approval: {}",
        if plan.approval_required { "required" } else { "not required" }
    );
    if let Some(playbook) = &plan.playbook {
        let _ = writeln!(text, "playbook: {} {}", clean(&playbook.id), clean(&playbook.version));
    }
    for (title, script) in [
        ("steps", &plan.script),
        ("verification", &plan.verification),
        ("rollback", &plan.rollback),
    ] {
        if script.steps.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{title}:");
        for step in &script.steps {
            let _ = writeln!(text, "  {}. {}", clean(&step.step_id), command_line(step));
        }
    }
    text
}
