//! Reads by key, the whole estate visited, and statistics.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Estate, EstateStats};
use crate::document::point_id;
use crate::error::Result;
use crate::model::Resource;

impl Estate {
    /// The resource with this ARN, if present.
    pub fn get(&self, arn: &str) -> Result<Option<Resource>> {
        Ok(self.vectors.get(&[point_id(arn)], false)?.into_iter().next().map(|p| p.resource))
    }

    /// How many resources the estate holds (from the store's count, without a scan).
    pub fn len(&self) -> Result<usize> {
        self.vectors.count()
    }

    /// Whether the estate holds no resource.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Calls `visit` with every resource (in no particular order).
    pub fn for_each(&self, mut visit: impl FnMut(Resource) -> Result<()>) -> Result<()> {
        self.vectors.for_each(|point| visit(point.resource))
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<EstateStats> {
        let mut stats = EstateStats {
            resources: 0,
            by_type: BTreeMap::new(),
            by_account: BTreeMap::new(),
            by_region: BTreeMap::new(),
            embedder: self.embedder.name().to_owned(),
            semantic: self.embedder.is_semantic(),
            disk_bytes: directory_size(&self.path),
        };
        self.for_each(|resource| {
            stats.resources += 1;
            *stats.by_type.entry(resource.resource_type.as_str().to_owned()).or_default() += 1;
            let account = if resource.account_name.is_empty() {
                resource.account_id
            } else {
                resource.account_name
            };
            *stats.by_account.entry(account).or_default() += 1;
            *stats.by_region.entry(resource.region).or_default() += 1;
            Ok(())
        })?;
        Ok(stats)
    }
}

/// Bytes actually allocated under `path`: the engines preallocate sparse files, whose
/// apparent length would overstate the cost many times.
fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => allocated(&metadata),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(unix)]
fn allocated(metadata: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(metadata: &std::fs::Metadata) -> u64 {
    metadata.len()
}
