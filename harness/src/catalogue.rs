//! Where scenarios come from: the built-in catalogue embedded in the binary, or files and
//! folders named on the command line. Also knows where each scenario's snapshot lives.

use std::io::Read;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::plan::{self, Plan, ScenarioError};

static SCENARIOS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../scenarios");
static SNAPSHOTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../snapshots");

/// A scenario file, not yet validated.
#[derive(Debug, Clone)]
pub struct Source {
    /// Trial name: path below the catalogue root, without extension (`pid/kill-ancestor`).
    pub id: String,
    /// Path shown in messages.
    pub display: String,
    pub bytes: Vec<u8>,
    pub snapshot: SnapshotRef,
}

/// Where the snapshot of a scenario is, if anywhere.
#[derive(Debug, Clone)]
pub enum SnapshotRef {
    /// Built-in scenario: the snapshot embedded next to it (None: not committed).
    Embedded(Option<&'static str>),
    /// A scenario file inside a `scenarios/` folder: `../snapshots/<name>.snap` beside it.
    File(PathBuf),
    None,
}

/// The snapshot file name of a scenario: `pid/kill-ancestor` → `pid__kill-ancestor.snap`.
pub fn snapshot_name(id: &str) -> String {
    id.replace('/', "__")
}

/// The body of an insta `.snap` file (everything after its `---` header).
pub fn snapshot_body(text: &str) -> &str {
    let rest = text.strip_prefix("---\n").unwrap_or(text);
    match rest.find("\n---\n") {
        Some(i) if text.starts_with("---\n") => &rest[i + 5..],
        _ => text,
    }
}

fn is_scenario(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn strip_ext(p: &str) -> &str {
    p.strip_suffix(".yaml")
        .or_else(|| p.strip_suffix(".yml"))
        .unwrap_or(p)
}

/// The built-in catalogue, sorted by id.
pub fn builtin() -> Vec<Source> {
    let mut out = Vec::new();
    collect_embedded(&SCENARIOS, &mut out);
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn collect_embedded(dir: &'static Dir<'static>, out: &mut Vec<Source>) {
    for f in dir.files() {
        if !is_scenario(f.path()) {
            continue;
        }
        let rel = f.path().to_string_lossy().into_owned();
        let id = strip_ext(&rel).to_string();
        let snap = SNAPSHOTS
            .get_file(format!("{}.snap", snapshot_name(&id)))
            .and_then(|f| f.contents_utf8());
        out.push(Source {
            display: format!("scenarios/{rel}"),
            id,
            bytes: f.contents().to_vec(),
            snapshot: SnapshotRef::Embedded(snap),
        });
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

/// Scenario files named on the command line (files, or folders searched recursively).
/// Errors name the path that could not be used.
pub fn from_paths(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(format!(
                    "{}: no scenario files (*.yaml) in this folder",
                    p.display()
                ));
            }
        } else {
            out.push(file_source(p)?);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.display.cmp(&b.display)));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Source>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if is_scenario(&e) {
            out.push(file_source(&e)?);
        }
    }
    Ok(())
}

fn file_source(path: &Path) -> Result<Source, String> {
    // Read at most one byte past the limit: enough to reject an oversized file (or /dev/zero)
    // with a position, without reading all of it into memory.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(plan::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    // Inside a `scenarios/` folder the id is the path below it, as for the built-in catalogue.
    let root = abs
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"));
    let (id, snapshot) = match root {
        Some(root) => {
            let rel = abs
                .strip_prefix(root)
                .unwrap_or(&abs)
                .to_string_lossy()
                .into_owned();
            let id = strip_ext(&rel).to_string();
            let snap = root
                .parent()
                .unwrap_or(root)
                .join("snapshots")
                .join(format!("{}.snap", snapshot_name(&id)));
            (id, SnapshotRef::File(snap))
        }
        None => (
            strip_ext(&path.file_name().unwrap_or_default().to_string_lossy()).to_string(),
            SnapshotRef::None,
        ),
    };
    Ok(Source {
        id,
        display: path.display().to_string(),
        bytes,
        snapshot,
    })
}

impl Source {
    /// Validates the scenario.
    pub fn load(&self) -> Result<Plan, ScenarioError> {
        if self.bytes.len() > plan::MAX_FILE_BYTES {
            return Err(plan::too_large(&self.display, &self.bytes));
        }
        let text = std::str::from_utf8(&self.bytes).map_err(|e| {
            let (line, column) = plan::position_of(&self.bytes, e.valid_up_to());
            ScenarioError {
                path: self.display.clone(),
                line,
                column,
                message: "the file is not valid UTF-8".into(),
            }
        })?;
        plan::load(&self.id, &self.display, text)
    }

    /// The committed snapshot body, if any; `Err` names the expected path when it is missing.
    pub fn snapshot(&self) -> Option<Result<String, String>> {
        match &self.snapshot {
            SnapshotRef::None => None,
            SnapshotRef::Embedded(Some(text)) => Some(Ok(snapshot_body(text).to_string())),
            SnapshotRef::Embedded(None) => {
                Some(Err(format!("snapshots/{}.snap", snapshot_name(&self.id))))
            }
            SnapshotRef::File(p) => Some(
                std::fs::read_to_string(p)
                    .map(|t| snapshot_body(&t).to_string())
                    .map_err(|_| p.display().to_string()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_header_is_stripped() {
        let text = "---\nsource: x\nexpression: y\n---\nscenario: a\n";
        assert_eq!(snapshot_body(text), "scenario: a\n");
        assert_eq!(snapshot_name("pid/kill-ancestor"), "pid__kill-ancestor");
    }
}
