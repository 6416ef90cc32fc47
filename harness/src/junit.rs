//! `nsspec run --junit FILE`: the run's results as JUnit XML, the format CI systems (GitLab,
//! Jenkins, GitHub's test-report actions) show per test. One test suite per run (`nsspec on
//! Linux <release>`), one test case per scenario: its group (`pid`) as the class name, its id
//! (`pid/getpid-is-one`) as the name.
//! Written with quick-junit (nextest's serializer), which escapes XML. Every text is passed
//! through [`xml_text`] first: quick-junit drops most control characters but lets U+FFFE and
//! U+FFFF through, which XML 1.0 forbids as well, and a parser then rejects the whole report.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::report::{ScenarioResult, Status};

/// The report of one run: one suite named `suite` (the runner names it after the kernel, so
/// that the reports of a kernel matrix stay apart where a CI system merges them), with
/// `properties`: facts about the host (kernel release, mode).
///
/// `unreported`: the ids of scenarios that never produced a result (the run counts them as
/// failed, or was interrupted before they finished): `<error>` cases with the message `why`,
/// so that the report cannot look green while the run failed.
pub fn report(
    results: &[ScenarioResult],
    unreported: &[&str],
    why: &str,
    suite: &str,
    properties: &[(&str, String)],
    wall: Duration,
) -> Report {
    let mut suite = TestSuite::new(xml_text(suite));
    suite.set_time(wall);
    for (name, value) in properties {
        suite.add_property(Property::new(xml_text(name), xml_text(value)));
    }
    for r in results {
        suite.add_test_case(case(r));
    }
    for id in unreported {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(xml_text(why));
        let mut case = TestCase::new(xml_text(id), status);
        case.set_classname(xml_text(class_name(id)));
        suite.add_test_case(case);
    }
    let mut report = Report::new("nsspec");
    report.set_time(wall);
    report.add_test_suite(suite);
    report
}

fn case(r: &ScenarioResult) -> TestCase {
    let status = match r.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(xml_text(&r.messages.join("; ")));
            s
        }
        Status::Failed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            // The first line names the file, line and step; the rest is in the description.
            let first = r.messages.first().map(String::as_str).unwrap_or_default();
            s.set_message(xml_text(first.lines().next().unwrap_or_default()));
            s.set_description(xml_text(&r.messages.join("\n")));
            s
        }
    };
    let mut case = TestCase::new(xml_text(&r.id), status);
    case.set_classname(xml_text(class_name(&r.id)));
    case.set_time(Duration::from_millis(r.elapsed_ms));
    if let Some(record) = &r.record {
        case.set_system_out(xml_text(record));
    }
    case
}

/// A test case's class name: the scenario's group (`pid`), or `nsspec` for a loose file.
fn class_name(id: &str) -> &str {
    id.split_once('/').map_or("nsspec", |(group, _)| group)
}

/// `text` with every character XML 1.0 cannot carry (`Char` in its grammar: the C0 controls
/// but tab, line feed and carriage return, and U+FFFE and U+FFFF) written as a Rust escape
/// (`\u{1b}`, `\u{fffe}`), as the observation record writes them. Ids are free of controls,
/// but not of the two non-characters, and a record or a snapshot diff can hold anything a
/// scenario read: one such character made the whole report unreadable to every XML parser,
/// and quick-junit would silently drop the controls (and, after an ESC, the text of the escape
/// sequence), where the report should show what was there.
pub fn xml_text(text: &str) -> String {
    let forbidden = |c: char| matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if !text.contains(forbidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if forbidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `report` to `path` whole or not at all (beside it as `.NAME.PID.tmp`, then renamed).
pub fn write(report: &Report, path: &Path) -> std::io::Result<()> {
    let xml = report
        .to_string()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    crate::runner::replace_through(path, temp_name(path)?, xml.as_bytes())
}

/// The names [`write`] tries for its file beside `path`: `.NAME.PID.tmp`, then
/// `.NAME.PID-1.tmp`, … (see [`crate::runner::create_temp`]).
fn temp_name(path: &Path) -> std::io::Result<impl Fn(u32) -> std::path::PathBuf> {
    path.file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let path = path.to_owned();
    Ok(move |n: u32| crate::runner::temp_beside(&path, ".", n))
}

/// Why `path` cannot take a report, found before anything runs: a run of minutes should not
/// end in "cannot write". Only a regular file (replaced whole) or a new name in an existing
/// folder will do; the report is renamed into place, so a link or a device there would be
/// replaced rather than written through (`--junit /dev/stdout` would replace /dev/stdout).
/// The folder must take the file the report is written to first: it is made there and
/// removed again, which answers for permissions, read-only mounts, ACLs and quotas alike.
pub fn target_problem(path: &Path) -> Option<String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(m) if m.is_dir() => return Some("it is a directory".into()),
        Ok(m) if m.file_type().is_symlink() => {
            return Some("it is a symbolic link: name the file it points to".into());
        }
        Ok(_) => return Some("it is not a regular file".into()),
        Err(_) => {}
    }
    // `new/`, `new/.`, `..`: the path names a folder, whatever it holds; Path's parent() would
    // drop the trailing part and look at the wrong folder.
    let bytes = path.as_os_str().as_encoded_bytes();
    if path.file_name().is_none() || bytes.ends_with(b"/") || bytes.ends_with(b"/.") {
        return Some("the path names a folder, not a file".into());
    }
    // The temporary file's name is cut to fit (runner::temp_beside); the report's own would
    // fail only at the rename, after the run.
    if path
        .file_name()
        .is_some_and(|n| n.len() > crate::runner::NAME_MAX)
    {
        return Some("its name is longer than the 255 bytes a file name may have".into());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Some(format!("{} is not a directory", parent.display())),
        Err(e) => return Some(format!("{}: {e}", parent.display())),
    }
    let tried = temp_name(path).and_then(crate::runner::create_temp);
    match tried {
        // The report replaces FILE by a rename, which, like this removal, an append-only
        // folder (chattr +a) refuses: such a folder takes the file but never the report.
        Ok((_, temp)) => std::fs::remove_file(&temp).err().map(|e| {
            format!(
                "cannot remove a file from {}: {e}",
                crate::catalogue::escape_controls(&parent.to_string_lossy())
            )
        }),
        Err(e) => Some(format!(
            "cannot create a file in {}: {e}",
            crate::catalogue::escape_controls(&parent.to_string_lossy())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SnapshotState;

    fn result(id: &str, status: Status, messages: &[&str], record: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            source: format!("scenarios/{id}.yaml"),
            status,
            messages: messages.iter().map(|m| m.to_string()).collect(),
            record: record.map(str::to_string),
            snapshot: SnapshotState::NotChecked,
            elapsed_ms: 1500,
            pids_limit: String::new(),
        }
    }

    #[test]
    fn a_path_that_names_a_folder_is_refused_before_the_run() {
        let dir = std::env::temp_dir().join(format!("nsspec-junit-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = |p: &str| target_problem(&dir.join(p));
        let folder = "the path names a folder, not a file";
        let found = [
            at("missing/."),
            at("new/"),
            at("new/.."),
            at("r.xml"),
            at("missing/r.xml"),
        ];
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found[0].as_deref(), Some(folder));
        assert_eq!(found[1].as_deref(), Some(folder));
        assert_eq!(found[2].as_deref(), Some(folder));
        assert_eq!(found[3], None);
        assert!(
            found[4]
                .as_deref()
                .is_some_and(|w| w.contains("No such file")),
            "{found:?}"
        );
    }

    #[test]
    fn each_status_becomes_its_junit_element() {
        let results = [
            result("pid/a", Status::Passed, &[], Some("rec a")),
            result(
                "pid/b",
                Status::Failed,
                &["b.yaml:7: init step 2 `kill`: expected ok\nmore", "second"],
                Some("rec <b> & \u{1b}[1m\u{7}"),
            ),
            result("user/c", Status::Skipped, &["needs Linux 6.14"], None),
            result("loose", Status::Passed, &[], None),
        ];
        let xml = report(
            &results,
            &["pid/never"],
            "not finished: the run was interrupted by SIGINT",
            "nsspec on Linux 6.18.0",
            &[("kernel", "6.18.0".into())],
            Duration::from_secs(2),
        )
        .to_string()
        .unwrap();
        assert!(
            xml.contains(r#"<testsuite name="nsspec on Linux 6.18.0" tests="5""#),
            "{xml}"
        );
        assert!(xml.contains(r#"errors="1""#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="pid/never" classname="pid">"#)
                && xml.contains(
                    r#"<error message="not finished: the run was interrupted by SIGINT"/>"#
                ),
            "{xml}"
        );
        assert!(xml.contains(r#"failures="1""#), "{xml}");
        assert!(xml.contains(r#"skipped="1""#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="pid/a" classname="pid" time="1.500">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="b.yaml:7: init step 2 `kill`: expected ok""#),
            "{xml}"
        );
        assert!(xml.contains("more\nsecond</failure>"), "{xml}");
        // Escaped, and the ESC and BEL that XML 1.0 cannot carry are shown as escapes.
        assert!(
            xml.contains(r"rec &lt;b&gt; &amp; \u{1b}[1m\u{7}</system-out>"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="needs Linux 6.14"/>"#),
            "{xml}"
        );
        assert!(xml.contains(r#"classname="nsspec""#), "{xml}");
        assert!(
            xml.contains(r#"<property name="kernel" value="6.18.0"/>"#),
            "{xml}"
        );
    }

    /// U+FFFE and U+FFFF are valid UTF-8 and no control characters, and quick-junit let them
    /// through: a scenario file so named, or a record or snapshot diff holding one, made a
    /// report no XML parser reads.
    #[test]
    fn what_xml_cannot_carry_is_escaped_in_every_text() {
        let results = [
            result(
                "g/a\u{fffe}b",
                Status::Failed,
                &["x.yaml: differs:\n-z\u{ffff}\u{1}"],
                Some("read \u{fffe}\u{b}\ttab\r\n"),
            ),
            result("g/s\u{ffff}", Status::Skipped, &["why \u{fffe}"], None),
        ];
        let xml = report(
            &results,
            &["g/n\u{fffe}"],
            "not \u{ffff}",
            "suite \u{fffe}",
            &[("kernel", "6.1\u{ffff}".into())],
            Duration::ZERO,
        )
        .to_string()
        .unwrap();
        assert!(
            !xml.contains(['\u{fffe}', '\u{ffff}', '\u{1}', '\u{b}']),
            "{xml:?}"
        );
        for shown in [
            r#"<testsuite name="suite \u{fffe}""#,
            r#"value="6.1\u{ffff}""#,
            r#"<testcase name="g/a\u{fffe}b""#,
            r"-z\u{ffff}\u{1}</failure>",
            r"<system-out>read \u{fffe}\u{b}",
            r#"<skipped message="why \u{fffe}"/>"#,
            r#"<testcase name="g/n\u{fffe}""#,
            r#"<error message="not \u{ffff}"/>"#,
        ] {
            assert!(xml.contains(shown), "{shown:?} not in {xml:?}");
        }
    }

    /// The temporary file's name carries the PID, which a run before this one may have had
    /// (nsspec as a container's PID 1): what it left there is neither overwritten nor removed,
    /// and it must not make this run's report fail either.
    #[test]
    fn a_file_left_at_the_temporary_name_is_kept_and_another_name_taken() {
        let dir = std::env::temp_dir().join(format!("nsspec-junit-left-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("junit.xml");
        let left = dir.join(format!(".junit.xml.{}.tmp", std::process::id()));
        std::fs::write(&left, "left").unwrap();
        let r = report(&[], &[], "", "s", &[], Duration::ZERO);
        let written = write(&r, &path);
        let problem = target_problem(&path);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let (text, kept) = (
            std::fs::read_to_string(&path).unwrap_or_default(),
            std::fs::read_to_string(&left).unwrap_or_default(),
        );
        std::fs::remove_dir_all(&dir).unwrap();
        written.unwrap();
        assert_eq!(problem, None);
        assert!(text.starts_with("<?xml"), "{text}");
        assert_eq!(kept, "left");
        assert_eq!(
            names,
            [left.file_name().unwrap().to_str().unwrap(), "junit.xml"]
        );
    }

    #[test]
    fn a_report_replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("nsspec-junit-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("junit.xml");
        std::fs::write(&path, "old").unwrap();
        let r = report(&[], &[], "", "s", &[], Duration::ZERO);
        write(&r, &path).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let text = std::fs::read_to_string(&path).unwrap();
        let missing = write(&r, &dir.join("no-such-dir/junit.xml"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, ["junit.xml"]);
        assert!(text.starts_with("<?xml"), "{text}");
        assert!(missing.is_err());
    }

    /// A report named near NAME_MAX (255 bytes) can be written: its temporary name, the name
    /// with a dot before and `.PID.tmp` after, used to pass the limit (ENAMETOOLONG), in the
    /// check before the run as in the write after it. Names with a multi-byte character cut
    /// in the middle are names all the same (bytes). A name over 255 bytes is refused before
    /// the run, not found out at the rename after it.
    #[test]
    fn a_report_named_near_name_max_is_written() {
        let dir = std::env::temp_dir().join(format!("nsspec-junit-long-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = report(&[], &[], "", "s", &[], Duration::ZERO);
        let mut outcomes = Vec::new();
        for name in ["r".repeat(255), format!("{}.xml", "\u{e9}".repeat(125))] {
            let path = dir.join(&name);
            outcomes.push((
                name.len(),
                target_problem(&path),
                write(&r, &path).map_err(|e| e.to_string()),
                std::fs::read_to_string(&path).unwrap_or_default(),
            ));
        }
        let left = std::fs::read_dir(&dir).unwrap().count();
        let too_long = target_problem(&dir.join("r".repeat(256)));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            too_long.as_deref(),
            Some("its name is longer than the 255 bytes a file name may have")
        );
        for (len, problem, written, text) in outcomes {
            assert_eq!(problem, None, "{len} bytes");
            assert_eq!(written, Ok(()), "{len} bytes");
            assert!(text.starts_with("<?xml"), "{len} bytes: {text}");
        }
        assert_eq!(left, 2, "temporary files left");
    }
}
