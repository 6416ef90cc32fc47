//! `link-order`: writes and checks harness/link-order.txt (see `nsspec_bench::link_order`).
//!
//!   link-order generate --nsspec BIN --out FILE PATH...   trace one `BIN run FILE` per scenario
//!                                                          file under PATH with callgrind
//!   link-order check --nsspec BIN --order FILE [--min-present PCT]
//!                                                          exit 1 unless BIN's code follows FILE
//!
//! `bench/link-order` (`just link-order`) installs valgrind, builds and runs both.

use nsspec_bench::link_order::{
    Layout, Part, Provenance, Usage, Verdict, by_normalized, function_symbols, functions_in,
    listed, normalized, verdict, with_aliases,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let mut nsspec = None;
    let mut file = None;
    let mut min_present = 0;
    let mut paths = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nsspec" => nsspec = args.next().map(PathBuf::from),
            "--out" | "--order" => file = args.next().map(PathBuf::from),
            "--min-present" => {
                min_present = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ if a.starts_with("--") => usage(),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let (Some(nsspec), Some(file)) = (nsspec, file) else {
        usage()
    };
    let result = match mode.as_str() {
        "generate" if !paths.is_empty() => generate(&nsspec, &file, &paths),
        "check" if paths.is_empty() => check(&nsspec, &file, min_present),
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("link-order: {e}");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: link-order generate --nsspec BIN --out FILE PATH...\n       \
         link-order check --nsspec BIN --order FILE [--min-present PCT]"
    );
    std::process::exit(2);
}

fn check(bin: &Path, order: &Path, min_present: u64) -> Result<(), String> {
    let text = std::fs::read_to_string(order).map_err(|e| format!("{}: {e}", order.display()))?;
    let layout = Layout::measure(&listed(&text), &by_normalized(&function_symbols(bin)?));
    println!(
        "link order: {} of the {} functions {} lists are in {} ({} %); nine tenths of their {} KiB of code lie within {} KiB",
        layout.present,
        layout.listed,
        order.display(),
        bin.display(),
        layout.present_percent(),
        layout.bytes / 1024,
        layout.span / 1024,
    );
    match verdict(
        &layout,
        min_present,
        Provenance::recorded(&text).as_ref(),
        &provenance()?,
    ) {
        Verdict::Ok => Ok(()),
        Verdict::Notice(m) => {
            println!("link order: {m}");
            Ok(())
        }
        Verdict::Fail(m) => Err(m),
    }
}

/// This build's: the compiler cargo uses ($RUSTC, else rustc) and ./Cargo.lock.
fn provenance() -> Result<Provenance, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-V")
        .output()
        .map_err(|e| format!("{}: {e}", rustc.to_string_lossy()))?;
    let lock = std::fs::read("Cargo.lock")
        .map_err(|e| format!("Cargo.lock: {e} (run from the repository root)"))?;
    Ok(Provenance::of(&String::from_utf8_lossy(&out.stdout), &lock))
}

/// Scenario files under `paths` (files as given, folders searched for `*.yaml` and `*.yml`),
/// sorted.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn generate(bin: &Path, out: &Path, paths: &[PathBuf]) -> Result<(), String> {
    let all = function_symbols(bin)?;
    let symbols: std::collections::HashSet<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    let files = scenario_files(paths)?;
    let scratch = std::env::temp_dir().join(format!("nsspec-link-order.{}", std::process::id()));
    let traced = trace(bin, &files, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let usage = traced?;
    let order = with_aliases(&usage.order(|f| symbols.contains(f)), &all);
    write_order(out, &files, &usage, &order)
}

/// One traced `BIN run FILE` per file, each into its own folder under `scratch`.
fn trace(bin: &Path, files: &[PathBuf], scratch: &Path) -> Result<Usage, String> {
    let mut usage = Usage::default();
    for (i, scenario) in files.iter().enumerate() {
        eprintln!("[{}/{}] tracing {}", i + 1, files.len(), scenario.display());
        let dir = scratch.join(i.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The scenario may fail under valgrind (it lacks pidfd_open, among others) and take
        // another path than a real run; what ran is still what matters.
        let child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--demangle=no")
            .arg("--dump-after=_Fork")
            .arg(format!("--callgrind-out-file={}/cg.%p", dir.display()))
            .arg(bin)
            .arg("run")
            .arg(scenario)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("valgrind: {e} (is it installed?)"))?;
        let runner = child.id();
        child
            .wait_with_output()
            .map_err(|e| format!("waiting for valgrind: {e}"))?;
        let mut parts = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(part) = Part::from_file_name(name) {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                parts.push((part, functions_in(&text)));
            }
        }
        if !parts.iter().any(|(p, _)| p.pid == runner) {
            return Err(format!(
                "callgrind wrote nothing for {} (try the valgrind command by hand)",
                scenario.display()
            ));
        }
        usage.add_run(&parts, runner);
    }
    Ok(usage)
}

fn write_order(
    out: &Path,
    files: &[PathBuf],
    usage: &Usage,
    order: &[String],
) -> Result<(), String> {
    let kids: Vec<String> = order
        .iter()
        .filter(|f| usage.children.contains_key(*f))
        .cloned()
        .collect();
    let names = normalized(order);
    let kids = normalized(&kids).len();
    let mut text = format!(
        "# nsspec's link order: the functions a run executes, placed together at the start of the\n\
         # code in this order (harness/build.rs: Rust's by a linker script, the C library's with\n\
         # --symbol-ordering-file). Why, and what it saves: bench/FINDINGS.md, seventeenth round.\n\
         # Generated by `just link-order` from callgrind traces of `nsspec run` on {} scenario\n\
         # files; do not edit by hand. {} ran in child processes (first, the most-run first), {}\n\
         # only in the runner. Crate disambiguators are `Cs*_`, so the names hold across compilers\n\
         # and Cargo.lock changes as long as the code's functions stay; the list was made with:\n{}",
        files.len(),
        kids,
        names.len() - kids,
        provenance()?.header()
    );
    for f in &names {
        text.push_str(f);
        text.push('\n');
    }
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {} ({} functions)", out.display(), names.len());
    Ok(())
}
