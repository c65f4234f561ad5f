//! Top-1 accuracy of the evaluation set per category, for each lookup configuration and for
//! a plain fuzzy finder over the same estate. Prints a Markdown table for
//! `docs/benchmarks.md`.
//!
//! Run: `cargo run --release -p cloudops-embed --example eval`

use std::collections::BTreeMap;

#[path = "../tests/embed/public.rs"]
mod public;

use cloudops_core::{Estate, EstateConfig, Fusion, LookupRequest, Resource, demo};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

type Scores = BTreeMap<String, (usize, usize)>;

fn score(queries: &[demo::LabelledQuery], mut top1: impl FnMut(&str) -> Option<String>) -> Scores {
    let mut scores = Scores::new();
    for labelled in queries {
        let entry = scores.entry(labelled.category.clone()).or_default();
        entry.1 += 1;
        if top1(&labelled.query).as_deref() == Some(labelled.expected_arn.as_str()) {
            entry.0 += 1;
        }
    }
    scores
}

fn estate_scores(
    resources: &[Resource],
    queries: &[demo::LabelledQuery],
    config: EstateConfig,
    semantic: bool,
) -> (Scores, bool) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let model = cloudops_embed::default_model_dir().filter(|d| cloudops_embed::model_present(d));
    let estate = match model.filter(|_| semantic) {
        Some(model) => cloudops_embed::open_estate_with_model(directory.path(), config, &model),
        None => Estate::open(directory.path(), config),
    }
    .expect("open");
    estate.upsert(resources).expect("index");
    let semantic = estate.is_semantic();
    let scores = score(queries, |query| {
        estate
            .lookup(&LookupRequest { query: query.into(), limit: Some(1), ..Default::default() })
            .ok()
            .and_then(|r| r.results.into_iter().next())
            .map(|r| r.resource.arn)
    });
    (scores, semantic)
}

/// What an operator would otherwise do: pipe "name id type account region tags" lines into
/// a fuzzy finder (skim's algorithm, as in `sk`/`fzf`) and take the first line.
fn fuzzy_finder_scores(resources: &[Resource], queries: &[demo::LabelledQuery]) -> Scores {
    let matcher = SkimMatcherV2::default();
    let lines: Vec<String> = resources
        .iter()
        .map(|r| {
            let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{} {} {} {} {} {} {}",
                r.name,
                r.id,
                r.resource_type,
                r.account_name,
                r.region,
                tags.join(" "),
                r.arn
            )
        })
        .collect();
    score(queries, |query| {
        lines
            .iter()
            .zip(resources)
            .filter_map(|(line, resource)| matcher.fuzzy_match(line, query).map(|s| (s, resource)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, resource)| resource.arn.clone())
    })
}

fn main() {
    let resources = demo::generate(&demo::DemoConfig::default());
    let queries = demo::evaluation_set(&resources);
    println!("The demo estate's set ({} resources):\n", resources.len());
    print_table(&columns(&resources, &queries, true));

    // The second set, after public infrastructure code (issue 28): its categories are
    // `<category>/<split>`; the held-out split is never used to tune anything.
    let (resources, queries) = public::load();
    println!("\nThe public-naming set ({} resources):\n", resources.len());
    print_table(&columns(&resources, &queries, false));
}

/// Each configuration's scores: the default (RRF with the model, when installed), the
/// weighted fusion (`all` only), without the model, and the fuzzy finder.
fn columns(
    resources: &[Resource],
    queries: &[demo::LabelledQuery],
    all: bool,
) -> Vec<(String, Scores)> {
    let mut columns: Vec<(String, Scores)> = Vec::new();
    let (rrf, semantic) = estate_scores(resources, queries, EstateConfig::default(), true);
    if semantic {
        columns.push(("hybrid, MiniLM, RRF (default)".into(), rrf));
        if all {
            let (weighted, _) = estate_scores(
                resources,
                queries,
                EstateConfig { fusion: Fusion::Weighted, ..EstateConfig::default() },
                true,
            );
            columns.push(("hybrid, MiniLM, weighted".into(), weighted));
        }
    } else {
        eprintln!("note: no model installed; run scripts/fetch-model.sh for the semantic columns");
    }
    let (lexical, _) = estate_scores(resources, queries, EstateConfig::default(), false);
    columns.push(("no model (lexical + hashing)".into(), lexical));
    columns.push(("fuzzy finder (skim)".into(), fuzzy_finder_scores(resources, queries)));
    columns
}

/// A Markdown table: a row per category, a column per configuration, and the overall row
/// (and, for categories split `<category>/<split>`, the overall of each split).
fn print_table(columns: &[(String, Scores)]) {
    print!("| category | queries |");
    for (name, _) in columns {
        print!(" {name} |");
    }
    println!();
    print!("|---|---|");
    for _ in columns {
        print!("---|");
    }
    println!();
    let categories: Vec<String> = columns[0].1.keys().cloned().collect();
    for category in &categories {
        print!("| {category} | {} |", columns[0].1[category].1);
        for (_, scores) in columns {
            let (hits, count) = scores[category];
            print!(" {:.3} |", hits as f64 / count as f64);
        }
        println!();
    }
    let mut splits: Vec<&str> =
        categories.iter().filter_map(|c| c.split_once('/').map(|(_, split)| split)).collect();
    splits.sort_unstable();
    splits.dedup();
    for split in splits {
        let suffix = format!("/{split}");
        total_row(&format!("**{split}**"), columns, |category| category.ends_with(&suffix));
    }
    total_row("**overall**", columns, |_| true);
}

fn total_row(label: &str, columns: &[(String, Scores)], counted: impl Fn(&str) -> bool) {
    let sum = |scores: &Scores| {
        scores
            .iter()
            .filter(|(category, _)| counted(category))
            .fold((0, 0), |(h, c), (_, (hits, count))| (h + hits, c + count))
    };
    print!("| {label} | {} |", sum(&columns[0].1).1);
    for (_, scores) in columns {
        let (hits, count) = sum(scores);
        print!(" **{:.3}** |", hits as f64 / count as f64);
    }
    println!();
}
