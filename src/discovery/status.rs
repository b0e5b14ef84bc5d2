//! Failures of discovery providers, kept for the service discovery page.
//!
//! Providers write here when a source (a file, a URL, a DNS name) fails or recovers; the
//! web layer reads it directly. Entries are keyed by job, provider and source, so a job that
//! is stopped or restarts its providers can drop exactly its own.

use dashmap::DashMap;
use std::collections::BTreeMap;

/// (provider, source) → error, per job.
type JobErrors = BTreeMap<(String, String), String>;

#[derive(Default)]
pub struct SdStatus {
    errors: DashMap<String, JobErrors>,
}

impl SdStatus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the failure of one source, or clears it with `None`.
    pub fn set(&self, job: &str, provider: &str, source: &str, error: Option<String>) {
        let key = (provider.to_string(), source.to_string());
        match error {
            Some(e) => {
                self.errors
                    .entry(job.to_string())
                    .or_default()
                    .insert(key, e);
            }
            None => {
                if let Some(mut m) = self.errors.get_mut(job) {
                    m.remove(&key);
                }
            }
        }
    }

    /// Forgets every source of a provider but those in `keep` (e.g. files that still exist).
    pub fn retain_sources(&self, job: &str, provider: &str, keep: impl Fn(&str) -> bool) {
        if let Some(mut m) = self.errors.get_mut(job) {
            m.retain(|(p, s), _| p != provider || keep(s));
        }
    }

    pub fn remove_job(&self, job: &str) {
        self.errors.remove(job);
    }

    /// The current failures of a job as (source, error), sorted by provider and source.
    pub fn errors(&self, job: &str) -> Vec<(String, String)> {
        self.errors
            .get(job)
            .map(|m| m.iter().map(|((_, s), e)| (s.clone(), e.clone())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::SdStatus;

    #[test]
    fn errors_are_set_cleared_and_dropped() {
        let s = SdStatus::new();
        s.set("j", "file/0", "/a.json", Some("bad".into()));
        s.set("j", "file/0", "/b.json", Some("worse".into()));
        s.set("j", "http/0", "http://x/", Some("down".into()));
        assert_eq!(s.errors("j").len(), 3);
        s.set("j", "file/0", "/a.json", None);
        s.retain_sources("j", "file/0", |src| src != "/b.json");
        assert_eq!(s.errors("j"), vec![("http://x/".into(), "down".into())]);
        s.set("k", "dns/0", "localhost", Some("x".into()));
        s.remove_job("k");
        assert!(s.errors("k").is_empty());
    }
}
