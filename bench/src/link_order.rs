//! nsspec's link order (harness/link-order.txt): the functions a run executes, listed so that
//! the linker places them together at the start of `.text`.
//!
//! Why: a process faults in the binary's code a 64 KiB window at a time (the kernel's
//! fault-around), and a forked child maps it afresh, since fork copies no page tables of a
//! file-backed mapping. A `nsspec run` is four processes (runner, guardian, supervisor, the
//! scenario's init); with the functions they run spread over the 5.9 MB of text, each faulted in
//! windows of mostly unrelated code (bench/FINDINGS.md, seventeenth round).
//!
//! What runs is measured with callgrind (`--dump-after=_Fork` makes every process write what
//! it ran after its birth separately from what it inherited), one traced `nsspec run` per
//! scenario file. Functions that child processes ran come first, those most processes ran
//! first among them, so the trivial scenario's supervisor and init touch the fewest windows;
//! the functions only the runner ran follow. Rust names are written [`normalize`]d, so that
//! the list holds across compilers and Cargo.lock changes; harness/build.rs turns it into a
//! linker script and a symbol ordering file.

use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The functions one callgrind output file names as having run: its `fn=` entries. Names are
/// compressed (`fn=(7) NAME` the first time, `fn=(7)` after, with `cfn=` sharing the numbers),
/// and callgrind marks recursion levels with `'N`, which is not part of the symbol.
pub fn functions_in(callgrind: &str) -> BTreeSet<String> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut ran = BTreeSet::new();
    for line in callgrind.lines() {
        let (is_fn, rest) = if let Some(r) = line.strip_prefix("fn=") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("cfn=") {
            (false, r)
        } else {
            continue;
        };
        let (id, name) = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((id, name)) => (id, name.trim_start()),
            None => ("", rest),
        };
        let name = if name.is_empty() {
            match names.get(id) {
                Some(n) => *n,
                None => continue,
            }
        } else {
            if !id.is_empty() {
                names.insert(id, name);
            }
            name
        };
        if is_fn {
            let base = match name.rsplit_once('\'') {
                Some((b, level)) if level.chars().all(|c| c.is_ascii_digit()) => b,
                _ => name,
            };
            ran.insert(base.to_string());
        }
    }
    ran
}

/// One output file of a traced run: `cg.PID` (written at exit) or `cg.PID.N` (the N-th dump,
/// one after each fork).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub pid: u32,
    pub dump: Option<u32>,
}

impl Part {
    /// The part a file name stands for, for files named `cg.%p`; `None` for other files.
    pub fn from_file_name(name: &str) -> Option<Part> {
        let mut it = name.strip_prefix("cg.")?.split('.');
        let pid = it.next()?.parse().ok()?;
        let dump = match it.next() {
            Some(n) => Some(n.parse().ok()?),
            None => None,
        };
        it.next().is_none().then_some(Part { pid, dump })
    }
}

/// How many traced processes ran each function, children and runners apart.
#[derive(Debug, Default)]
pub struct Usage {
    /// Processes other than the runner (guardian, supervisor, a scenario's processes).
    pub children: BTreeMap<String, u32>,
    /// Runners (one per traced run).
    pub runner: BTreeMap<String, u32>,
}

impl Usage {
    /// Adds one traced run: the functions of each file, and the runner's PID (the process
    /// valgrind started). A child's first dump (right after its fork) holds what it inherited
    /// from its parent and is left out; a child with no dump at all was not forked through
    /// glibc (so its file mixes in its parent's functions) and is left out whole.
    pub fn add_run(&mut self, files: &[(Part, BTreeSet<String>)], runner: u32) {
        let mut per_pid: BTreeMap<u32, Vec<(&Part, &BTreeSet<String>)>> = BTreeMap::new();
        for (part, fns) in files {
            per_pid.entry(part.pid).or_default().push((part, fns));
        }
        for (pid, parts) in per_pid {
            let is_runner = pid == runner;
            if !is_runner && !parts.iter().any(|(p, _)| p.dump.is_some()) {
                continue;
            }
            let mut ran = BTreeSet::new();
            for (part, fns) in parts {
                if !is_runner && part.dump == Some(1) {
                    continue;
                }
                ran.extend(fns.iter().cloned());
            }
            let counts = if is_runner {
                &mut self.runner
            } else {
                &mut self.children
            };
            for f in ran {
                *counts.entry(f).or_default() += 1;
            }
        }
    }

    /// The link order: functions any child ran, most-run first, then those only runners ran,
    /// most-run first (ties by name, so the file is stable). Only names `known` accepts (the
    /// binary's function symbols) are listed: callgrind also names code by address.
    pub fn order(&self, known: impl Fn(&str) -> bool) -> Vec<String> {
        let mut kids: Vec<(&String, u32)> = self.children.iter().map(|(f, n)| (f, *n)).collect();
        kids.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut solo: Vec<(&String, u32)> = self
            .runner
            .iter()
            .filter(|(f, _)| !self.children.contains_key(*f))
            .map(|(f, n)| (f, *n))
            .collect();
        solo.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        kids.into_iter()
            .chain(solo)
            .map(|(f, _)| f)
            .filter(|f| known(f))
            .cloned()
            .collect()
    }
}

/// The binary's defined function symbols: (name, address, size).
pub fn function_symbols(bin: &Path) -> Result<Vec<(String, u64, u64)>, String> {
    let data = std::fs::read(bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let elf = object::File::parse(&*data).map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut out = Vec::new();
    for sym in elf.symbols() {
        if sym.kind() != SymbolKind::Text || !sym.is_definition() {
            continue;
        }
        if let Ok(name) = sym.name() {
            out.push((name.to_string(), sym.address(), sym.size()));
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no function symbols (a stripped binary cannot be checked)",
            bin.display()
        ));
    }
    Ok(out)
}

/// A symbol as the list names it: without what changes with the compiler and Cargo.lock
/// rather than with the code. In a v0 name (`_R…`) each crate's disambiguator, `Cs<base-62>_`,
/// becomes `Cs*_`; ThinLTO's `.llvm.N` suffix, which changes with its codegen unit's code, goes
/// from any name. The result is a glob that still matches the name: where `Cs…_` occurs inside
/// an identifier the pattern is only looser. Legacy names (`_ZN…17h…E`) cannot be treated so:
/// their hash is all that tells a generic function's instances apart (bench/FINDINGS.md,
/// seventeenth round), hence `-C symbol-mangling-version=v0` in .cargo/config.toml.
pub fn normalize(name: &str) -> String {
    let base = name.find(".llvm.").map_or(name, |i| &name[..i]);
    if !base.starts_with("_R") {
        return base.to_string();
    }
    let b = base.as_bytes();
    let mut out = String::with_capacity(base.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'C' && b.get(i + 1) == Some(&b's') {
            let run = b[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if run > 0 && b.get(i + 2 + run) == Some(&b'_') {
                out.push_str("Cs*_");
                i += 3 + run;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// The binary's function symbols by [`normalize`]d name: every instance's (address, size).
pub fn by_normalized(symbols: &[(String, u64, u64)]) -> HashMap<String, Vec<(u64, u64)>> {
    let mut out: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for (name, addr, size) in symbols {
        out.entry(normalize(name)).or_default().push((*addr, *size));
    }
    out
}

/// `order` with, after each name, the other names at its address: where LLVM's MergeFunctions
/// found two functions identical it keeps one and makes the other an alias of it, and the
/// alias lives in the kept function's section, which is what the linker script must name.
pub fn with_aliases(order: &[String], symbols: &[(String, u64, u64)]) -> Vec<String> {
    let mut at: HashMap<u64, BTreeSet<&str>> = HashMap::new();
    let mut addr_of: HashMap<&str, u64> = HashMap::new();
    for (name, addr, _) in symbols {
        at.entry(*addr).or_default().insert(name);
        addr_of.entry(name).or_insert(*addr);
    }
    let mut out = Vec::new();
    for name in order {
        out.push(name.clone());
        if let Some(others) = addr_of.get(name.as_str()).and_then(|a| at.get(a)) {
            out.extend(others.iter().filter(|o| **o != name).map(|o| o.to_string()));
        }
    }
    out
}

/// `order` normalized, each name once, where it first occurs.
pub fn normalized(order: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    order
        .iter()
        .map(|n| normalize(n))
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// The names an order file lists: one per line, without what follows a `#` and without blank
/// lines (as harness/build.rs reads it).
pub fn listed(order_file: &str) -> Vec<&str> {
    order_file
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// What a list's names depend on besides nsspec's own code: the compiler (std's functions,
/// inlining, which generic instances exist) and Cargo.lock (the dependencies' functions). The
/// crate disambiguators they also change are [`normalize`]d away, so a list made with another
/// rustc still matches most names (82 % with nightly 1.97, bench/FINDINGS.md, seventeenth
/// round), but fewer than one made with this build's.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `rustc -V`.
    pub rustc: String,
    /// FNV-1a of Cargo.lock, in hex.
    pub lock: String,
}

const RUSTC_LINE: &str = "# made with: ";
const LOCK_LINE: &str = "# Cargo.lock: ";

impl Provenance {
    /// Of the build at hand: `rustc_v` is `rustc -V`'s output, `lock` Cargo.lock's bytes.
    pub fn of(rustc_v: &str, lock: &[u8]) -> Provenance {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in lock {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        Provenance {
            rustc: rustc_v.trim().to_string(),
            lock: format!("{h:016x}"),
        }
    }

    /// The header lines that record it.
    pub fn header(&self) -> String {
        format!("{RUSTC_LINE}{}\n{LOCK_LINE}{}\n", self.rustc, self.lock)
    }

    /// As recorded in an order file's header; None for a file without it.
    pub fn recorded(order_file: &str) -> Option<Provenance> {
        let line = |p: &str| order_file.lines().find_map(|l| l.strip_prefix(p));
        Some(Provenance {
            rustc: line(RUSTC_LINE)?.trim().to_string(),
            lock: line(LOCK_LINE)?.trim().to_string(),
        })
    }
}

/// What `link-order check` concludes.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Ok,
    /// Passes, with something to say: the list matches few names because the compiler
    /// differs from the one it was made with, which is the build machine's doing.
    Notice(String),
    Fail(String),
}

/// The check: too few names left fails when the list was made with this rustc and Cargo.lock
/// (the code moved on, or the dependencies changed without a new list), and is a notice when
/// only the compiler differs; with enough names, they must lie together.
pub fn verdict(
    layout: &Layout,
    min_present: u64,
    recorded: Option<&Provenance>,
    now: &Provenance,
) -> Verdict {
    let again = "run `just link-order` to list them afresh";
    if layout.present_percent() < min_present {
        let few = format!(
            "only {} % of the listed functions are in the binary (at least {min_present} % \
             expected)",
            layout.present_percent()
        );
        return match recorded {
            Some(r) if r.rustc != now.rustc => Verdict::Notice(format!(
                "{few}: the list was made with {}, this build with {}, and the names change \
                 with the compiler; the binary works the same, its start-up faults in more \
                 code; {again}",
                r.rustc, now.rustc
            )),
            Some(r) if r.lock != now.lock => Verdict::Fail(format!(
                "{few}: Cargo.lock changed since the list was made, and the names change \
                 with the dependencies; {again}"
            )),
            Some(_) => Verdict::Fail(format!("{few}: the code has moved on; {again}")),
            None => Verdict::Fail(format!(
                "{few}, and the list does not say what it was made with; {again}"
            )),
        };
    }
    if !layout.together() {
        return Verdict::Fail(format!(
            "the binary was not linked in that order (the functions are spread over {} KiB): \
             harness/build.rs passes the list only where a test link takes it (rust-lld), and \
             warns where it does not; NSSPEC_LINK_ORDER=off also turns it off",
            layout.span / 1024
        ));
    }
    Verdict::Ok
}

/// Where the listed functions ended up in a binary.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Names in the order file.
    pub listed: usize,
    /// Of those, names the binary has a function symbol for. The rest went stale: renamed
    /// functions, or ThinLTO's `.llvm.N` suffixes, which change with the code of their unit.
    pub present: usize,
    /// Bytes of code of the present functions.
    pub bytes: u64,
    /// The shortest stretch of code that holds nine tenths of those bytes. A few listed
    /// functions stay where they were: an alias LLVM's MergeFunctions made of another function
    /// lives in that function's section, which the list does not name.
    pub span: u64,
}

impl Layout {
    /// Measures `listed` against a binary's function symbols ([`by_normalized`]); a name counts
    /// as present if any instance has it.
    pub fn measure(listed: &[&str], symbols: &HashMap<String, Vec<(u64, u64)>>) -> Layout {
        let mut present = 0;
        let mut starts = BTreeMap::new();
        for name in listed {
            if let Some(instances) = symbols.get(*name) {
                present += 1;
                starts.extend(instances.iter().copied());
            }
        }
        let bytes: u64 = starts.values().sum();
        // The shortest stretch from one function's start to another's end that holds nine
        // tenths of the bytes.
        let funcs: Vec<(u64, u64)> = starts.into_iter().collect();
        let (mut span, mut held, mut first) = (u64::MAX, 0, 0);
        for (last, &(addr, size)) in funcs.iter().enumerate() {
            held += size;
            while held - funcs[first].1 >= bytes * 9 / 10 && first < last {
                held -= funcs[first].1;
                first += 1;
            }
            if held >= bytes * 9 / 10 {
                span = span.min(addr + size - funcs[first].0);
            }
        }
        let span = if funcs.is_empty() { 0 } else { span };
        Layout {
            listed: listed.len(),
            present,
            bytes,
            span,
        }
    }

    /// Whether the linker applied the order: the present functions lie together, other code
    /// between most of them at most as large as they are. (Functions of one input section, such
    /// as the C library's per-file `.text`, move together, so a little other code comes along.)
    /// A binary linked without the order scatters them over the whole text.
    pub fn together(&self) -> bool {
        self.present > 0 && self.span <= 2 * self.bytes
    }

    /// The share of listed names that are still in the binary, in per cent.
    pub fn present_percent(&self) -> u64 {
        if self.listed == 0 {
            return 0;
        }
        (self.present as u64 * 100) / self.listed as u64
    }

    /// One line for BENCHMARKS.md's machine table.
    pub fn summary(&self) -> String {
        if self.together() {
            format!(
                "{} of the {} listed functions in the binary ({} %), together: nine tenths of \
                 their {} KiB of code within {} KiB",
                self.present,
                self.listed,
                self.present_percent(),
                self.bytes / 1024,
                self.span / 1024
            )
        } else {
            format!(
                "not applied: the {} listed functions the binary has are spread over {} KiB",
                self.present,
                self.span / 1024
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CG: &str = "\
version: 1
pid: 42
fl=(1) ???
fn=(1) main
0x10 3
cfn=(2) helper
calls=1 0x20
0x10 5
fn=(2)
0x20 4
fn=(3) deep'2
0x30 1
fn=(4) _ZN6nsspec4plan5build17h0123456789abcdefE.llvm.42
0x40 1
";

    #[test]
    fn functions_in_resolves_compressed_names_and_drops_recursion_levels() {
        let got: Vec<String> = functions_in(CG).into_iter().collect();
        assert_eq!(
            got,
            [
                "_ZN6nsspec4plan5build17h0123456789abcdefE.llvm.42",
                "deep",
                "helper",
                "main"
            ]
        );
    }

    #[test]
    fn a_name_only_called_is_not_a_function_that_ran() {
        let got = functions_in("fn=(1) a\ncfn=(2) b\ncalls=1 0\n");
        assert!(got.contains("a") && !got.contains("b"), "{got:?}");
    }

    #[test]
    fn part_names() {
        assert_eq!(
            Part::from_file_name("cg.17"),
            Some(Part {
                pid: 17,
                dump: None
            })
        );
        assert_eq!(
            Part::from_file_name("cg.17.2"),
            Some(Part {
                pid: 17,
                dump: Some(2)
            })
        );
        assert_eq!(Part::from_file_name("cg.17.2.1"), None);
        assert_eq!(Part::from_file_name("vgcore.17"), None);
        assert_eq!(Part::from_file_name("cg.x"), None);
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn part(pid: u32, dump: Option<u32>) -> Part {
        Part { pid, dump }
    }

    #[test]
    fn children_leave_out_what_they_inherited() {
        let mut u = Usage::default();
        let files = vec![
            (part(10, Some(1)), set(&["main", "parse"])),
            (part(10, None), set(&["print"])),
            // The supervisor: its first dump is the runner's past.
            (part(11, Some(1)), set(&["main", "parse"])),
            (part(11, Some(2)), set(&["supervise"])),
            (part(11, None), set(&["reap"])),
            // Init: born by fork, ran `step`.
            (part(1, Some(1)), set(&["supervise"])),
            (part(1, None), set(&["step", "reap"])),
            // A process with no dump was not forked through glibc: left out.
            (part(12, None), set(&["main", "odd"])),
        ];
        u.add_run(&files, 10);
        assert_eq!(
            u.runner.keys().collect::<Vec<_>>(),
            ["main", "parse", "print"]
        );
        assert_eq!(
            u.children
                .iter()
                .map(|(f, n)| (f.as_str(), *n))
                .collect::<Vec<_>>(),
            [("reap", 2), ("step", 1), ("supervise", 1)]
        );
    }

    #[test]
    fn order_puts_what_most_children_ran_first_and_runner_only_code_last() {
        let mut u = Usage::default();
        for (f, n) in [("step", 1), ("reap", 5), ("exit", 5), ("odd", 1)] {
            u.children.insert(f.into(), n);
        }
        for (f, n) in [("main", 3), ("reap", 3), ("parse", 3), ("help", 1)] {
            u.runner.insert(f.into(), n);
        }
        let order = u.order(|f| f != "odd");
        assert_eq!(order, ["exit", "reap", "step", "main", "parse", "help"]);
    }

    #[test]
    fn listed_skips_comments_and_blank_lines() {
        assert_eq!(listed("# header\n\n a \nb # note\n#c\n"), ["a", "b"]);
    }

    fn symbols(entries: &[(&str, u64, u64)]) -> HashMap<String, Vec<(u64, u64)>> {
        let raw: Vec<(String, u64, u64)> = entries
            .iter()
            .map(|(n, a, s)| (n.to_string(), *a, *s))
            .collect();
        by_normalized(&raw)
    }

    #[test]
    fn aliases_follow_the_name_they_share_an_address_with() {
        let syms = vec![
            ("grow_one_a".to_string(), 0x100, 0x40),
            ("grow_one_b".to_string(), 0x100, 0x40),
            ("other".to_string(), 0x200, 0x10),
        ];
        let order = vec!["grow_one_b".to_string(), "other".to_string()];
        assert_eq!(
            with_aliases(&order, &syms),
            ["grow_one_b", "grow_one_a", "other"]
        );
    }

    #[test]
    fn normalize_drops_disambiguators_and_lto_suffixes_only() {
        let a = "_RNvMs4_NtCslNYArtu3iFV_5alloc7raw_vecNtB5_11RawVecInner11finish_growCsy2PY4h2yEw_6nsspec.llvm.160";
        assert_eq!(
            normalize(a),
            "_RNvMs4_NtCs*_5alloc7raw_vecNtB5_11RawVecInner11finish_growCs*_6nsspec"
        );
        // Another compiler's disambiguators, the same function.
        let b = "_RNvMs4_NtCsAbc_5alloc7raw_vecNtB5_11RawVecInner11finish_growCsZz9_6nsspec";
        assert_eq!(normalize(a), normalize(b));
        // Instances of a generic function keep their type arguments apart.
        assert_ne!(
            normalize("_RINvCsx_6nsspec4workNtCsx_6nsspec3OneE"),
            normalize("_RINvCsx_6nsspec4workNtCsx_6nsspec3TwoE")
        );
        assert_eq!(normalize("__libc_fork"), "__libc_fork");
        assert_eq!(
            normalize("_ZN6nsspec4main17h0123456789abcdefE"),
            "_ZN6nsspec4main17h0123456789abcdefE"
        );
        assert_eq!(normalized(&[a.into(), b.into(), "x".into()]).len(), 2);
    }

    #[test]
    fn provenance_round_trips_through_the_header() {
        let p = Provenance::of("rustc 1.95.0 (59807616e 2026-04-14)\n", b"lock");
        assert_eq!(p.lock.len(), 16);
        assert_ne!(p.lock, Provenance::of("x", b"lock2").lock);
        let file = format!("# header\n{}_ZN1a\n", p.header());
        assert_eq!(Provenance::recorded(&file), Some(p));
        assert_eq!(Provenance::recorded("# header\n_ZN1a\n"), None);
    }

    #[test]
    fn verdicts() {
        let now = Provenance::of("rustc 1.95.0", b"lock");
        let other_rustc = Provenance::of("rustc 1.97.0-nightly", b"lock");
        let other_lock = Provenance::of("rustc 1.95.0", b"lock2");
        let good = Layout {
            listed: 100,
            present: 90,
            bytes: 1000,
            span: 1100,
        };
        let scattered = Layout {
            listed: 100,
            present: 90,
            bytes: 1000,
            span: 90_000,
        };
        let stale = Layout {
            listed: 100,
            present: 18,
            bytes: 200,
            span: 90_000,
        };
        assert_eq!(verdict(&good, 75, Some(&now), &now), Verdict::Ok);
        assert!(
            matches!(verdict(&scattered, 75, Some(&now), &now), Verdict::Fail(m) if m.contains("not linked"))
        );
        assert!(
            matches!(verdict(&stale, 75, Some(&now), &now), Verdict::Fail(m) if m.contains("moved on"))
        );
        assert!(
            matches!(verdict(&stale, 75, Some(&other_lock), &now), Verdict::Fail(m) if m.contains("Cargo.lock"))
        );
        assert!(
            matches!(verdict(&stale, 75, Some(&other_rustc), &now), Verdict::Notice(m) if m.contains("1.97.0"))
        );
        assert!(matches!(verdict(&stale, 75, None, &now), Verdict::Fail(_)));
    }

    #[test]
    fn layout_tells_an_ordered_binary_from_a_scattered_one() {
        let listed = ["a", "b", "c", "gone"];
        let ordered = symbols(&[
            ("a", 0x1000, 0x100),
            ("b", 0x1100, 0x80),
            ("c", 0x1180, 0x80),
        ]);
        let l = Layout::measure(&listed, &ordered);
        assert_eq!((l.listed, l.present, l.bytes, l.span), (4, 3, 0x200, 0x200));
        assert!(l.together());
        assert_eq!(l.present_percent(), 75);
        let scattered = symbols(&[
            ("a", 0x1000, 0x100),
            ("b", 0x9_0000, 0x80),
            ("c", 0x40_0000, 0x80),
        ]);
        assert!(!Layout::measure(&listed, &scattered).together());
        // One function out of place (an alias in an unlisted function's section) among many
        // that are together does not count against the layout.
        let mut many: Vec<(String, u64, u64)> = (0..30)
            .map(|i| (format!("f{i}"), 0x1000 + i * 0x100, 0x100))
            .collect();
        many.push(("stray".into(), 0x50_0000, 0x100));
        let names: Vec<String> = many.iter().map(|(n, _, _)| n.clone()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let l = Layout::measure(&names, &by_normalized(&many));
        assert!(l.together(), "{l:?}");
        assert!(l.span < 0x2000, "{l:?}");
        assert!(!Layout::measure(&listed, &HashMap::new()).together());
    }
}
