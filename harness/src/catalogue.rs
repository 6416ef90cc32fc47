//! Where scenarios come from: the built-in catalogue embedded in the binary, or files and
//! folders named on the command line. Also knows where each scenario's snapshot lives.

use std::io::Read;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::plan::{self, Plan, ScenarioError};
use crate::schema::{self, CompiledEntry};

static SCENARIOS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../scenarios");
static SNAPSHOTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../snapshots");
/// The built-in scenarios parsed at build time (build.rs): [`schema::CompiledEntry`]s.
static COMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/catalogue.bin"));

/// A scenario file, not yet validated.
#[derive(Debug, Clone)]
pub struct Source {
    /// Trial name: path below the catalogue root, without extension (`pid/kill-ancestor`).
    pub id: String,
    /// Path shown in messages.
    pub display: String,
    pub bytes: Vec<u8>,
    pub snapshot: SnapshotRef,
    /// The scenario as build.rs parsed it from exactly `bytes`: a built-in scenario, or a file
    /// whose bytes are those of one (a checkout's scenarios/ run by path).
    pub compiled: Option<&'static [u8]>,
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

/// The body of an insta `.snap` file (everything after its `---` header), with CRLF line
/// endings read as LF: insta compares them so (a checkout with `core.autocrlf` writes them),
/// and `nsspec run` must not fail a snapshot that `cargo test` passes. A lone CR stays, as in
/// insta: it is more likely data than a line ending.
pub fn snapshot_body(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").unwrap_or(&text);
    match rest.find("\n---\n") {
        Some(i) if text.starts_with("---\n") => rest[i + 5..].to_string(),
        _ => text,
    }
}

/// The largest snapshot file read. Records are a few KB; the cap keeps a mistaken file (a link
/// to /dev/zero, a log) from filling memory.
pub const MAX_SNAPSHOT_BYTES: usize = 16 << 20;

/// The body of the snapshot file `path`; `Ok(None)` when there is none. Anything else that is
/// not a readable regular UTF-8 file of at most [`MAX_SNAPSHOT_BYTES`] is an error.
fn read_snapshot(path: &Path) -> Result<Option<String>, String> {
    let bytes = match read_regular(path, MAX_SNAPSHOT_BYTES) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
        Ok(b) => b,
    };
    if bytes.len() > MAX_SNAPSHOT_BYTES {
        return Err(format!("larger than {MAX_SNAPSHOT_BYTES} bytes"));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = plan::position_of(e.as_bytes(), e.utf8_error().valid_up_to());
        format!("not valid UTF-8 at line {line}, column {column}")
    })?;
    Ok(Some(snapshot_body(&text)))
}

/// The first `cap` bytes of the regular file `path`, and one more if there are more; anything
/// but a regular file is `ErrorKind::Unsupported`, "not a regular file". Its type is looked at
/// before opening (opening some devices acts: /dev/watchdog arms the watchdog, a terminal can
/// become the controlling one) and again once open, without blocking (a FIFO swapped in
/// would wait for a writer) or taking a terminal.
pub(crate) fn read_regular(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || std::io::Error::new(std::io::ErrorKind::Unsupported, "not a regular file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn strip_ext(p: &str) -> &str {
    p.strip_suffix(".yaml")
        .or_else(|| p.strip_suffix(".yml"))
        .unwrap_or(p)
}

/// The built-in catalogue, sorted by id.
pub fn builtin() -> Vec<Source> {
    let mut out = Vec::new();
    collect_embedded(&SCENARIOS, &compiled_table(), &mut out);
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn collect_embedded(
    dir: &'static Dir<'static>,
    compiled: &[CompiledEntry<'static>],
    out: &mut Vec<Source>,
) {
    for f in dir.files() {
        if !schema::is_scenario_file(f.path()) {
            continue;
        }
        let rel = f.path().to_string_lossy().into_owned();
        let id = strip_ext(&rel).to_string();
        let snap = SNAPSHOTS
            .get_file(format!("{}.snap", snapshot_name(&id)))
            .and_then(|f| f.contents_utf8());
        let compiled = compiled_for(compiled, &rel, f.contents());
        out.push(Source {
            display: format!("scenarios/{rel}"),
            id,
            bytes: f.contents().to_vec(),
            snapshot: SnapshotRef::Embedded(snap),
            compiled,
        });
    }
    for d in dir.dirs() {
        collect_embedded(d, compiled, out);
    }
}

fn compiled_table() -> Vec<CompiledEntry<'static>> {
    postcard::from_bytes(COMPILED).unwrap_or_default()
}

/// The compiled form of scenarios/`rel`, if build.rs parsed it from these very bytes (it and
/// include_dir! read the files at different moments of the build).
fn compiled_for(
    table: &[CompiledEntry<'static>],
    rel: &str,
    bytes: &[u8],
) -> Option<&'static [u8]> {
    let i = table
        .binary_search_by(|(path, _, _)| (*path).cmp(rel))
        .ok()?;
    let (_, hash, raw) = table[i];
    (hash == schema::fnv1a(bytes)).then_some(raw)
}

/// The compiled form of a file read from disk whose bytes are exactly those of a built-in
/// scenario, wherever it lies: the cargo test trials run a checkout's scenarios/ file by file,
/// and a debug build spent a third of such a run parsing YAML. The bytes are
/// compared, not only hashed, and build.rs hashed what it parsed.
fn compiled_by_content(table: &[CompiledEntry<'static>], bytes: &[u8]) -> Option<&'static [u8]> {
    let hash = schema::fnv1a(bytes);
    table
        .iter()
        .find(|(path, h, _)| {
            *h == hash
                && SCENARIOS
                    .get_file(path)
                    .is_some_and(|f| f.contents() == bytes)
        })
        .map(|&(_, _, raw)| raw)
}

/// Scenario files named on the command line (files, or folders searched recursively).
/// Errors name the path that could not be used.
pub fn from_paths(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let table = compiled_table();
    let mut found = Found {
        table: &table,
        out: Vec::new(),
        seen: std::collections::HashMap::new(),
        links: Vec::new(),
    };
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", shown(p)))?;
        if meta.is_dir() {
            if found.walk(p, p)? == 0 {
                return Err(format!(
                    "{}: no scenario files (*.yaml, *.yml) in this folder",
                    shown(p)
                ));
            }
        } else {
            found.add(p, None, false)?;
        }
    }
    // Links to files last, so that a file reached both directly and through a link is
    // named by its own path.
    for (link, base) in std::mem::take(&mut found.links) {
        found.add(&link, Some(&base), true)?;
    }
    let mut out = found.out;
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.display.cmp(&b.display)));
    refuse_clashes(&out)?;
    Ok(out)
}

/// Two files with one id (`x.yaml` and `x.yml`, `d1/x.yaml` and `d2/x.yaml` named directly) or
/// one snapshot file (`g/x` and `g__x`) would mix up their reports, filters and snapshots, and
/// `--accept-snapshots` would overwrite one's snapshot with the other's record.
fn refuse_clashes(sources: &[Source]) -> Result<(), String> {
    let mut ids = std::collections::HashMap::new();
    let mut snaps = std::collections::HashMap::new();
    for s in sources {
        if let Some(other) = ids.insert(s.id.as_str(), s.display.as_str()) {
            return Err(format!(
                "{other} and {} have the same scenario id `{}`: rename one (ids name reports, \
                 filters and snapshots)",
                s.display, s.id
            ));
        }
        if let SnapshotRef::File(p) = &s.snapshot
            && let Some(other) = snaps.insert(p.clone(), s.display.as_str())
        {
            return Err(format!(
                "{other} and {} would share the snapshot {}: rename one",
                s.display,
                p.display()
            ));
        }
    }
    Ok(())
}

/// `path` as messages show it: control characters escaped, so that a file name cannot move
/// the cursor or forge a report line.
fn shown(path: &Path) -> String {
    escape_controls(&path.to_string_lossy())
}

/// `text` with its control characters (escape sequences, carriage returns, newlines) escaped
/// the way Rust writes them (`\u{1b}`, `\r`), for a terminal.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Which of the paths a file was reached by names it, highest first: the id with the most
/// parts (the path below the outermost folder named, not the file name alone), then a path in
/// a folder named over one named directly, then the file's own path over a link to it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    depth: usize,
    in_folder: bool,
    own_path: bool,
}

struct Found<'t> {
    table: &'t [CompiledEntry<'static>],
    out: Vec<Source>,
    /// Files already taken, by canonical path, with their place in `out` and the rank of the
    /// path they were taken by: a file named twice (`a.yaml ./a.yaml`, or a folder and a file
    /// in it) runs once.
    seen: std::collections::HashMap<PathBuf, (usize, Rank)>,
    /// Links to scenario files met in folders, with the folder named on the command line.
    links: Vec<(PathBuf, PathBuf)>,
}

impl Found<'_> {
    /// Adds the scenario files below `dir`; returns how many it found (taken before or not).
    /// Symbolic links to folders are not followed (a loop would never end, and a link to a
    /// folder already searched would run its scenarios twice); links to files are.
    fn walk(&mut self, dir: &Path, base: &Path) -> Result<usize, String> {
        let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", shown(dir)))?
            .filter_map(|e| e.ok().and_then(|e| Some((e.path(), e.file_type().ok()?))))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut n = 0;
        for (path, kind) in entries {
            // Hidden files and folders are not scenarios: editors' lock and backup files
            // (Emacs' `.#x.yaml` is a dangling link), `.git`.
            if path
                .file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
            {
                continue;
            }
            if kind.is_dir() {
                n += self.walk(&path, base)?;
            } else if schema::is_scenario_file(&path) {
                let target = if kind.is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_dir() => continue,
                        Ok(m) => m.file_type(),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            return Err(format!(
                                "{}: a link to a missing file ({})",
                                shown(&path),
                                std::fs::read_link(&path)
                                    .map(|t| shown(&t))
                                    .unwrap_or_default()
                            ));
                        }
                        Err(e) => return Err(format!("{}: {e}", shown(&path))),
                    }
                } else {
                    kind
                };
                // Opening a FIFO would block until someone writes to it.
                if !target.is_file() {
                    return Err(format!("{}: not a regular file", shown(&path)));
                }
                if kind.is_symlink() {
                    self.links.push((path, base.to_path_buf()));
                } else {
                    self.add(&path, Some(base), false)?;
                }
                n += 1;
            }
        }
        Ok(n)
    }

    /// A file reached more than once is named by the path of the highest [`Rank`], whatever
    /// the order of the command line: otherwise `run d d/sub/x.yaml` and `run d/sub/x.yaml d`
    /// would give it different ids, and the second would refuse it as a clash with `d/x.yaml`.
    /// `link`: a link met in a folder (added last), which never renames a file.
    fn add(&mut self, path: &Path, base: Option<&Path>, link: bool) -> Result<(), String> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let rank = |source: &Source| Rank {
            depth: source.id.split('/').count(),
            in_folder: base.is_some(),
            own_path: !link
                && !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()),
        };
        match self.seen.get(&canonical) {
            None => {
                let source = file_source(path, base, self.table)?;
                self.seen.insert(canonical, (self.out.len(), rank(&source)));
                self.out.push(source);
            }
            Some(&(at, taken)) if !link => {
                let again = file_source(path, base, self.table)?;
                let again_rank = rank(&again);
                if again_rank > taken {
                    self.out[at] = again;
                    self.seen.insert(canonical, (at, again_rank));
                }
            }
            Some(_) => {}
        }
        Ok(())
    }
}

/// `path` made absolute against the working directory: where the user says the file is, links
/// left as they are (`.` dropped). The part up to the last `..` is resolved by the kernel's
/// rules instead (made canonical), since folding `..` by name across a link to a folder
/// (`g/sub/../x.yaml` with `sub` a link) would name another file than the one read; what
/// follows it stays as written.
fn lexical_absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component> = joined.components().collect();
    if let Some(last) = parts.iter().rposition(|c| *c == Component::ParentDir)
        && let Ok(base) = std::fs::canonicalize(parts[..=last].iter().collect::<PathBuf>())
    {
        return base.join(parts[last + 1..].iter().collect::<PathBuf>());
    }
    parts.into_iter().collect()
}

/// `base`: the folder named on the command line that `path` was found in, if any; outside a
/// `scenarios/` folder the id is the path below it (`d1/x`, so that `d2/x` differs). The
/// `scenarios/` folder is looked for on the path as given (made absolute, `..` folded), not on
/// the file's canonical path: a link `p/scenarios/g/l.yaml` to a file elsewhere is `g/l`, with
/// its snapshot in `p/snapshots/`, as the README promises for files in a `scenarios/` folder.
fn file_source(
    path: &Path,
    base: Option<&Path>,
    table: &[CompiledEntry<'static>],
) -> Result<Source, String> {
    let Some(text) = path.to_str() else {
        return Err(format!(
            "{}: the path is not valid UTF-8 (scenario ids and snapshot names are text)",
            shown(path)
        ));
    };
    if text.chars().any(char::is_control) {
        return Err(format!(
            "{}: control characters in the path (scenario ids and snapshot names are shown \
             and stored as text)",
            shown(path)
        ));
    }
    let abs = lexical_absolute(path);
    let abs = abs.as_path();
    // Read at most one byte past the limit: enough to reject an oversized file with a
    // position, without reading all of it into memory. A FIFO named directly would block until
    // someone wrote to it, and a device (/dev/zero) is no scenario either: refused.
    let mut bytes = read_regular(path, plan::MAX_FILE_BYTES).map_err(|e| format!("{text}: {e}"))?;
    bytes.shrink_to_fit();
    // Inside a `scenarios/` folder the id is the path below it, as for the built-in catalogue.
    let root = abs
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"));
    let (id, snapshot) = match root {
        Some(root) => {
            let rel = abs
                .strip_prefix(root)
                .unwrap_or(abs)
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
        None => {
            let below = base
                .and_then(|b| path.strip_prefix(b).ok())
                .filter(|r| !r.as_os_str().is_empty())
                .unwrap_or_else(|| Path::new(path.file_name().unwrap_or_default()));
            (
                strip_ext(&below.to_string_lossy()).to_string(),
                SnapshotRef::None,
            )
        }
    };
    // `.yaml` (hidden, skipped in folders, but it can be named) has no name to give: an empty
    // id would match every --filter and leave a JUnit case and a snapshot (`.snap`) unnamed.
    if id.rsplit('/').next().is_none_or(str::is_empty) {
        return Err(format!(
            "{text}: the file name gives the scenario no id: name it NAME.yaml (ids name \
             reports, filters and snapshots)"
        ));
    }
    let compiled = compiled_by_content(table, &bytes);
    Ok(Source {
        id,
        display: text.to_string(),
        bytes,
        snapshot,
        compiled,
    })
}

impl Source {
    /// Validates the scenario.
    pub fn load(&self) -> Result<Plan, ScenarioError> {
        if let Some(raw) = self.compiled.and_then(schema::decode) {
            return plan::from_raw(&self.id, &self.display, raw);
        }
        self.parse_and_load()
    }

    /// [`Source::load`] from the YAML, even where a compiled form exists.
    pub fn parse_and_load(&self) -> Result<Plan, ScenarioError> {
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

    /// Whether `nsspec run --accept-snapshots` may write the snapshot: a file in a `scenarios/`
    /// folder (a built-in scenario's lives in the binary).
    pub fn snapshot_writable(&self) -> bool {
        matches!(self.snapshot, SnapshotRef::File(_))
    }

    /// Where the scenario's snapshot is (or would be), and its committed body when it exists
    /// (`Err`: it exists but cannot be used, which must not pass for "no snapshot"); `None`
    /// when the scenario has no snapshot location.
    pub fn snapshot(&self) -> Option<(String, Result<Option<String>, String>)> {
        match &self.snapshot {
            SnapshotRef::None => None,
            SnapshotRef::Embedded(text) => Some((
                format!("snapshots/{}.snap", snapshot_name(&self.id)),
                Ok(text.map(snapshot_body)),
            )),
            SnapshotRef::File(p) => Some((below_cwd(p).display().to_string(), read_snapshot(p))),
        }
    }
}

/// `path` relative to the working directory when it is below it (the runner never changes
/// directory, so the relative path names the same file): messages then show the snapshot as
/// the user wrote the scenario's path, `scenarios/x.yaml` beside `snapshots/x.snap`.
fn below_cwd(path: &Path) -> &Path {
    std::env::current_dir()
        .ok()
        .filter(|cwd| cwd.parent().is_some())
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .filter(|rel| !rel.as_os_str().is_empty())
        .unwrap_or(path)
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

    #[test]
    fn a_snapshot_with_crlf_line_endings_reads_as_insta_reads_it() {
        let text = "---\r\nsource: x\r\n---\r\nscenario: a\r\n  1. read() -> \"x\ry\"\r\n";
        assert_eq!(
            snapshot_body(text),
            "scenario: a\n  1. read() -> \"x\ry\"\n"
        );
    }

    #[test]
    fn every_builtin_scenario_comes_compiled_and_equal_to_its_yaml() {
        let sources = builtin();
        assert!(
            sources.len() >= 60,
            "only {} built-in scenarios",
            sources.len()
        );
        for s in &sources {
            let compiled = s
                .compiled
                .unwrap_or_else(|| panic!("{}: build.rs did not compile it", s.display));
            let text = std::str::from_utf8(&s.bytes).unwrap();
            // Every value and every line/column, as the YAML parse gives them.
            let decoded = schema::decode(compiled).expect("decodes");
            let parsed = schema::parse(text).expect("parses");
            assert_eq!(
                format!("{decoded:?}"),
                format!("{parsed:?}"),
                "{}",
                s.display
            );
            let fast = s.load().expect("valid");
            let slow = s.parse_and_load().expect("valid");
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", s.display);
        }
    }

    #[test]
    fn folders_are_searched_without_following_links_to_folders_and_each_file_runs_once() {
        use std::os::unix::fs::symlink;
        let dir = std::env::temp_dir().join(format!("nsspec-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let yaml = include_bytes!("../../scenarios/pid/getpid-is-one.yaml");
        for sub in ["d1", "d2"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            std::fs::write(dir.join(sub).join("x.yaml"), yaml).unwrap();
        }
        symlink("..", dir.join("d1/up")).unwrap(); // a loop
        symlink("d1", dir.join("again")).unwrap(); // a folder searched already
        symlink("d1/x.yaml", dir.join("alias.yaml")).unwrap(); // a file found already
        symlink("d2", dir.join("folder.yaml")).unwrap(); // a folder with a scenario's name
        let ids = |paths: &[PathBuf]| -> Result<Vec<(String, String)>, String> {
            Ok(from_paths(paths)?
                .into_iter()
                .map(|s| (s.id, s.display))
                .collect())
        };
        let walked = ids(std::slice::from_ref(&dir));
        let file = dir.join("d1/x.yaml");
        let dotted = dir.join("d1/./x.yaml");
        let twice = ids(&[file.clone(), dotted, dir.join("alias.yaml")]);
        nix::unistd::mkfifo(&dir.join("d2/fifo.yaml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let fifo = ids(std::slice::from_ref(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        let at = |p: &str| dir.join(p).display().to_string();
        assert_eq!(
            walked.unwrap(),
            [
                ("d1/x".into(), at("d1/x.yaml")),
                ("d2/x".into(), at("d2/x.yaml"))
            ]
        );
        assert_eq!(twice.unwrap(), [("x".into(), file.display().to_string())]);
        assert_eq!(
            fifo.unwrap_err(),
            format!("{}: not a regular file", at("d2/fifo.yaml"))
        );
    }

    #[test]
    fn a_file_reached_twice_keeps_its_id_from_the_outermost_folder_in_any_order() {
        use std::os::unix::fs::symlink;
        let dir = std::env::temp_dir().join(format!("nsspec-twice-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let yaml = include_bytes!("../../scenarios/pid/getpid-is-one.yaml");
        std::fs::create_dir_all(dir.join("d/sub")).unwrap();
        std::fs::write(dir.join("d/x.yaml"), yaml).unwrap();
        std::fs::write(dir.join("d/sub/x.yaml"), yaml).unwrap();
        std::fs::create_dir_all(dir.join("e")).unwrap();
        symlink("../d/sub/x.yaml", dir.join("e/link.yaml")).unwrap();
        let (d, sub, file) = (dir.join("d"), dir.join("d/sub"), dir.join("d/sub/x.yaml"));
        let ids = |paths: &[&PathBuf]| -> Result<Vec<String>, String> {
            let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
            Ok(from_paths(&paths)?.into_iter().map(|s| s.id).collect())
        };
        let orders = [
            ids(&[&d, &file]),
            ids(&[&file, &d]),
            ids(&[&d, &sub]),
            ids(&[&sub, &d]),
        ];
        // Reached by its own path and through a link (in a folder, or named directly): named by
        // its own path, in either order.
        let direct = dir.join("e/link.yaml");
        let linked = [
            ids(&[&file, &dir.join("e")]),
            ids(&[&dir.join("e"), &file]),
            ids(&[&file, &direct]),
            ids(&[&direct, &file]),
        ];
        std::fs::remove_dir_all(&dir).unwrap();
        for (i, found) in orders.into_iter().enumerate() {
            assert_eq!(found.unwrap(), ["sub/x", "x"], "order {i}");
        }
        for found in linked {
            assert_eq!(found.unwrap(), ["x"]);
        }
    }

    #[test]
    fn a_file_whose_name_gives_no_id_is_refused() {
        let dir = std::env::temp_dir().join(format!("nsspec-noid-{}", std::process::id()));
        let yaml = include_bytes!("../../scenarios/pid/getpid-is-one.yaml");
        std::fs::create_dir_all(dir.join("scenarios/g")).unwrap();
        for f in [".yaml", ".yml", "scenarios/g/.yaml"] {
            std::fs::write(dir.join(f), yaml).unwrap();
        }
        let found: Vec<_> = [".yaml", ".yml", "scenarios/g/.yaml"]
            .iter()
            .map(|f| from_paths(&[dir.join(f)]).map(|s| s.len()))
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        for (f, r) in [".yaml", ".yml", "scenarios/g/.yaml"].iter().zip(found) {
            assert!(
                r.as_ref()
                    .is_err_and(|e| e.contains("gives the scenario no id")),
                "{f}: {r:?}"
            );
        }
    }

    /// The README's catalogue table is what users read to find a scenario: one row per
    /// built-in scenario, none for a scenario that is gone (five were missing once).
    #[test]
    fn the_readmes_catalogue_table_lists_every_builtin_scenario() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("\n## The catalogue\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README.md has a section \"## The catalogue\"");
        let listed: std::collections::BTreeSet<&str> = table
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        let builtin: std::collections::BTreeSet<String> =
            builtin().into_iter().map(|s| s.id).collect();
        let builtin: std::collections::BTreeSet<&str> =
            builtin.iter().map(String::as_str).collect();
        let missing: Vec<_> = builtin.difference(&listed).collect();
        let stale: Vec<_> = listed.difference(&builtin).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "README.md's catalogue table: missing {missing:?}, not in the catalogue {stale:?}"
        );
    }

    #[test]
    fn a_compiled_entry_is_used_only_for_the_bytes_it_was_parsed_from() {
        let yaml = b"name: a\n";
        let table = [
            ("a.yaml", schema::fnv1a(yaml), &b"A"[..]),
            ("b.yaml", schema::fnv1a(b"other"), &b"B"[..]),
        ];
        assert_eq!(compiled_for(&table, "a.yaml", yaml), Some(&b"A"[..]));
        assert_eq!(compiled_for(&table, "a.yaml", b"name: b\n"), None);
        assert_eq!(compiled_for(&table, "b.yaml", yaml), None);
        assert_eq!(compiled_for(&table, "c.yaml", yaml), None);
        assert_ne!(schema::fnv1a(b"ab"), schema::fnv1a(b"ba"));
    }

    #[test]
    fn a_file_with_a_builtin_scenarios_bytes_gets_its_compiled_form() {
        let builtin = builtin();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let on_disk = from_paths(&[dir]).unwrap();
        assert_eq!(on_disk.len(), builtin.len());
        for (d, b) in on_disk.iter().zip(&builtin) {
            assert_eq!(d.id, b.id);
            assert!(d.compiled.is_some(), "{}: no compiled form", d.display);
            assert_eq!(d.compiled, b.compiled, "{}", d.display);
            let fast = d.load().expect("valid");
            let slow = d.parse_and_load().expect("valid");
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", d.display);
        }

        // Wherever the file lies; but one byte more and it is parsed.
        let tmp = std::env::temp_dir().join(format!("nsspec-compiled-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let (same, changed) = (tmp.join("copy.yaml"), tmp.join("changed.yaml"));
        std::fs::write(&same, &builtin[0].bytes).unwrap();
        std::fs::write(&changed, [&builtin[0].bytes[..], b"\n"].concat()).unwrap();
        let copies = from_paths(&[same, changed]);
        std::fs::remove_dir_all(&tmp).unwrap();
        let copies = copies.unwrap();
        assert_eq!(copies[0].id, "changed");
        assert_eq!(copies[0].compiled, None);
        assert_eq!(copies[1].id, "copy");
        assert_eq!(copies[1].compiled, builtin[0].compiled);

        // A matching hash is not enough: the bytes must be the embedded file's.
        let (path, _, _) = compiled_table()[0];
        let bytes = SCENARIOS.get_file(path).unwrap().contents();
        let forged = [(path, schema::fnv1a(b"name: x\n"), &b"X"[..])];
        assert_eq!(compiled_by_content(&forged, b"name: x\n"), None);
        let genuine = [(path, schema::fnv1a(bytes), &b"X"[..])];
        assert_eq!(compiled_by_content(&genuine, bytes), Some(&b"X"[..]));
    }

    #[test]
    fn load_takes_the_compiled_form_when_there_is_one() {
        // A source whose compiled form says something else than its YAML: load() must answer
        // from the compiled form, parse_and_load() from the YAML.
        let yaml = "name: from-yaml\nnamespaces: [pid]\nsteps:\n  - getpid: {expect: 1}\n";
        let other = "name: from-build\nnamespaces: [pid]\nsteps:\n  - getpid: {expect: 1}\n";
        let encoded = schema::encode(&schema::parse(other).unwrap()).unwrap();
        let source = Source {
            id: "x".into(),
            display: "x.yaml".into(),
            bytes: yaml.as_bytes().to_vec(),
            snapshot: SnapshotRef::None,
            compiled: Some(Box::leak(encoded.into_boxed_slice())),
        };
        assert_eq!(source.load().unwrap().name, "from-build");
        assert_eq!(source.parse_and_load().unwrap().name, "from-yaml");
        // Bytes that are not a whole encoded scenario fall back to the YAML.
        let mut longer = schema::encode(&schema::parse(other).unwrap()).unwrap();
        longer.push(0);
        let source = Source {
            compiled: Some(Box::leak(longer.into_boxed_slice())),
            ..source
        };
        assert_eq!(source.load().unwrap().name, "from-yaml");
    }

    #[test]
    fn a_compiled_scenario_keeps_the_lines_and_columns_its_errors_point_at() {
        // An invalid value survives encoding with its position, so the run-time validation
        // reports the same place as a YAML parse would.
        let text = "name: x\nnamespaces: [pid]\nsteps:\n  - kill: {pid: nobody, signal: TERM}\n";
        let raw = schema::parse(text).unwrap();
        let decoded = schema::decode(&schema::encode(&raw).unwrap()).unwrap();
        let slow = plan::from_raw("x", "x.yaml", raw).unwrap_err();
        let fast = plan::from_raw("x", "x.yaml", decoded).unwrap_err();
        assert_eq!(fast, slow);
        assert_eq!((fast.line, fast.column), (4, 17), "{fast}");
    }
}
