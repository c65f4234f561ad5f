//! Writes: upserting resources (re-embedding only what changed) and removing them.

use std::collections::{HashMap, HashSet};

use super::{Estate, Progress, UpsertReport};
use crate::document::{FilterValues, IndexedText, point_id};
use crate::error::{Error, Result};
use crate::model::Resource;
use crate::vectors::{NewPoint, StoredPoint};

impl Estate {
    /// Adds or replaces resources, keyed by ARN. Unchanged resources are not rewritten, and
    /// a resource is re-embedded only when its embedded text changed.
    pub fn upsert(&self, resources: &[Resource]) -> Result<UpsertReport> {
        self.upsert_with_progress(resources, &mut |_| {})
    }

    /// [`Self::upsert`], reporting progress after each batch.
    pub fn upsert_with_progress(
        &self,
        resources: &[Resource],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<UpsertReport> {
        for resource in resources {
            validate(resource)?;
        }
        // Last one wins within a batch, as it would across batches.
        let mut latest: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
        for (position, resource) in resources.iter().enumerate() {
            latest.insert(resource.arn.as_str(), position);
        }
        let unique: Vec<&Resource> = resources
            .iter()
            .enumerate()
            .filter(|(position, resource)| latest.get(resource.arn.as_str()) == Some(position))
            .map(|(_, resource)| resource)
            .collect();

        let _writing =
            self.writes.lock().map_err(|_| Error::Index("write lock poisoned".into()))?;
        let mut report = UpsertReport::default();
        let mut embedded: HashMap<String, Vec<f32>> = HashMap::new();
        let total = unique.len();
        for (chunk_number, chunk) in unique.chunks(1024).enumerate() {
            self.upsert_chunk(chunk, &mut embedded, &mut report)?;
            progress(Progress { done: (chunk_number * 1024 + chunk.len()).min(total), total });
        }
        self.write_lexical()?.commit()?;
        if report.added + report.changed >= 10_000 {
            self.vectors.optimize()?;
        }
        self.vectors.flush();
        report.embedded = embedded.len();
        drop(_writing);
        self.refresh_account_names()?;
        Ok(report)
    }

    fn upsert_chunk(
        &self,
        chunk: &[&Resource],
        embedded: &mut HashMap<String, Vec<f32>>,
        report: &mut UpsertReport,
    ) -> Result<()> {
        let ids: Vec<u64> = chunk.iter().map(|r| point_id(&r.arn)).collect();
        let stored: HashMap<String, StoredPoint> = self
            .vectors
            .get(&ids, true)?
            .into_iter()
            .map(|point| (point.resource.arn.clone(), point))
            .collect();

        struct Pending<'a> {
            resource: &'a Resource,
            text: IndexedText,
            filters: FilterValues,
            content_hash: String,
            text_hash: String,
            vector: Option<Vec<f32>>,
        }
        let mut pending = Vec::new();
        for resource in chunk {
            let content_hash = content_hash(resource)?;
            let previous = stored.get(&resource.arn);
            if previous.is_some_and(|p| p.content_hash == content_hash) {
                report.unchanged += 1;
                continue;
            }
            if previous.is_some() {
                report.changed += 1;
            } else {
                report.added += 1;
            }
            let text = IndexedText::of(resource);
            let text_hash = blake3::hash(
                format!("{}\u{0}{}", self.embedder.name(), text.embed_text).as_bytes(),
            )
            .to_hex()
            .to_string();
            let vector = previous
                .filter(|p| p.text_hash == text_hash)
                .and_then(|p| p.vector.clone())
                .or_else(|| embedded.get(&text_hash).cloned());
            pending.push(Pending {
                resource,
                filters: FilterValues::of(resource),
                text,
                content_hash,
                text_hash,
                vector,
            });
        }

        // Embed each distinct missing text once.
        let mut to_embed: Vec<(&str, &str)> = Vec::new();
        let mut seen = HashSet::new();
        for item in pending.iter().filter(|item| item.vector.is_none()) {
            if seen.insert(item.text_hash.as_str()) {
                to_embed.push((item.text_hash.as_str(), item.text.embed_text.as_str()));
            }
        }
        let texts: Vec<&str> = to_embed.iter().map(|(_, text)| *text).collect();
        let vectors = self.embedder.embed(&texts)?;
        for ((hash, _), vector) in to_embed.iter().zip(vectors) {
            embedded.insert((*hash).to_owned(), vector);
        }

        let lexical = self.read_lexical()?;
        let mut points = Vec::with_capacity(pending.len());
        for item in &pending {
            lexical.upsert(&item.resource.arn, &item.text, &item.filters)?;
            let vector = match &item.vector {
                Some(vector) => vector.clone(),
                None => embedded
                    .get(&item.text_hash)
                    .cloned()
                    .ok_or_else(|| Error::Model("the embedder returned too few vectors".into()))?,
            };
            points.push(NewPoint {
                resource: item.resource,
                filters: &item.filters,
                content_hash: &item.content_hash,
                text_hash: &item.text_hash,
                vector,
            });
        }
        self.vectors.upsert(points)
    }

    /// Removes resources by ARN; returns how many were present.
    pub fn remove(&self, arns: &[String]) -> Result<usize> {
        let _writing =
            self.writes.lock().map_err(|_| Error::Index("write lock poisoned".into()))?;
        let ids: Vec<u64> = arns.iter().map(|arn| point_id(arn)).collect();
        let present = self.vectors.get(&ids, false)?.len();
        self.vectors.remove(ids)?;
        let mut lexical = self.write_lexical()?;
        for arn in arns {
            lexical.remove(arn);
        }
        lexical.commit()?;
        drop(lexical);
        self.vectors.flush();
        Ok(present)
    }
}

fn validate(resource: &Resource) -> Result<()> {
    let missing = |field: &str| {
        Err(Error::InvalidInput(format!(
            "resource {:?} has an empty `{field}`",
            if resource.arn.is_empty() { &resource.id } else { &resource.arn }
        )))
    };
    if resource.arn.trim().is_empty() {
        return missing("arn");
    }
    if resource.id.trim().is_empty() {
        return missing("id");
    }
    if resource.account_id.trim().is_empty() {
        return missing("account_id");
    }
    if resource.arn.len() > 2048 {
        return Err(Error::InvalidInput(format!(
            "ARN longer than 2048 bytes: {}…",
            &resource.arn[..64]
        )));
    }
    Ok(())
}

/// The hash that decides whether a resource changed: everything but `last_seen`, which
/// changes on every sync without the resource changing.
fn content_hash(resource: &Resource) -> Result<String> {
    let unseen = Resource { last_seen: String::new(), ..resource.clone() };
    let bytes = serde_json::to_vec(&unseen)
        .map_err(|e| Error::Index(format!("cannot encode resource: {e}")))?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}
