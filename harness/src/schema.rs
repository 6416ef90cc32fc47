//! The scenario file format, exactly as a user writes it.
//!
//! These types only describe what may be typed: every struct denies unknown fields, every choice
//! is an externally tagged enum (never `flatten` or `untagged`, which destroy serde-saphyr's
//! line/column errors). Nothing here checks meaning — references between processes, signal and
//! errno names, limits — that is [`crate::plan`]'s job, and only the plan reaches the executor.
//!
//! Values that later validation may reject are wrapped in [`Spanned`] so its errors can point at
//! the exact line and column.
//!
//! The built-in catalogue is parsed at build time: build.rs includes this file, parses every
//! scenario with [`parse`] and stores the result with [`encode`]; `nsspec` then [`decode`]s it
//! instead of parsing the YAML again (serde-saphyr takes about 0.1 ms per kilobyte, half a
//! second of a run in a TCG guest). So this module may use only serde, serde-saphyr and postcard.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest scenario file accepted; anything bigger is rejected before it is parsed.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Deepest nesting of YAML collections: about 20 levels of `fork` inside `fork`.
pub const MAX_YAML_DEPTH: usize = 64;
/// Most YAML nodes (scalars, sequences, mappings) in one file, aliases expanded.
pub const MAX_YAML_NODES: usize = 100_000;
/// Most events alias expansion may replay in one file: far more than MAX_STEPS needs.
pub const MAX_ALIAS_REPLAY: usize = 50_000;

/// Parses one scenario file's text (the caller checks [`MAX_FILE_BYTES`] first).
pub fn parse(text: &str) -> Result<RawScenario, serde_saphyr::Error> {
    let mut raw: RawScenario = serde_saphyr::from_str_with_options(text, parse_options())?;
    let host = raw.host.as_mut().map(|h| &mut h.steps);
    for steps in std::iter::once(&mut raw.steps).chain(host) {
        untype_read_expectations(steps, text);
    }
    Ok(raw)
}

/// Gives `read` expectations that YAML typed (`0x1f`, `+1`, `True`) their text as written:
/// the plain scalar at the value's position, which holds no space, `,`, `]`, `}` or `#`.
fn untype_read_expectations(steps: &mut [Spanned<RawStep>], text: &str) {
    for step in steps {
        match &mut step.value {
            RawStep::Fork(f) => untype_read_expectations(&mut f.steps, text),
            RawStep::Enter(e) => untype_read_expectations(&mut e.steps, text),
            RawStep::Thread(t) => {
                if let Some(steps) = &mut t.steps {
                    untype_read_expectations(&mut steps.value, text);
                }
            }
            RawStep::Read(r) => {
                if let Some(e) = &mut r.expect
                    && matches!(e.value, RawReadExpect::Typed(_))
                    && let Some(raw) = plain_scalar_at(text, e.referenced)
                {
                    e.value = RawReadExpect::Text(raw);
                }
            }
            _ => {}
        }
    }
}

/// The plain scalar starting at `at` (1-based line and column, in characters), or `None`
/// where something else starts there (an alias `*a`, an anchor `&a`, a tag `!!int`, a quote).
fn plain_scalar_at(text: &str, at: Location) -> Option<String> {
    // YAML breaks lines at LF, CRLF and a lone CR alike.
    let text = text.replace("\r\n", "\n");
    let line = text
        .split(['\n', '\r'])
        .nth((at.line() as usize).checked_sub(1)?)?;
    let rest: String = line
        .chars()
        .skip((at.column() as usize).checked_sub(1)?)
        .collect();
    let token: String = rest
        .chars()
        .take_while(|c| !matches!(c, ' ' | '\t' | ',' | ']' | '}' | '#'))
        .collect();
    let first = token.chars().next()?;
    (!matches!(first, '*' | '&' | '!' | '"' | '\'' | '|' | '>')).then_some(token)
}

/// Limits on what the YAML parser accepts, so hostile input (alias bombs, deep nesting, huge
/// documents) is rejected in bounded time, memory and stack.
fn parse_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_YAML_DEPTH;
    budget.max_nodes = MAX_YAML_NODES;
    budget.max_events = 4 * MAX_YAML_NODES;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // YAML 1.2's booleans only: `yes`, `on`, `n` are YAML 1.1's, and a scenario that says
    // `proc_intact: no` should not depend on which YAML its author had in mind.
    options.strict_booleans = true;
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY;
    options
}

/// A parsed scenario in the compact form build.rs stores for the built-in catalogue.
pub fn encode(raw: &RawScenario) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(raw)
}

/// The inverse of [`encode`]; `None` for bytes [`encode`] did not write (trailing bytes
/// included).
pub fn decode(bytes: &[u8]) -> Option<RawScenario> {
    match postcard::take_from_bytes(bytes) {
        Ok((raw, [])) => Some(raw),
        _ => None,
    }
}

/// Whether a file holds a scenario, by its name: `*.yaml` or `*.yml`.
pub fn is_scenario_file(path: &std::path::Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// One entry of the compiled catalogue build.rs writes: (path under scenarios/, [`fnv1a`] of
/// the YAML it was parsed from, the scenario as [`encode`] wrote it). The catalogue is a
/// postcard-encoded list of them, sorted by path.
pub type CompiledEntry<'a> = (&'a str, u64, &'a [u8]);

/// FNV-1a (64-bit) of a scenario file: ties a compiled entry to the exact YAML it came from.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where a value was written: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    line: u32,
    column: u32,
}

impl Location {
    pub fn line(&self) -> u64 {
        u64::from(self.line)
    }

    pub fn column(&self) -> u64 {
        u64::from(self.column)
    }
}

/// A value and where it was written. serde-saphyr's own `Spanned` does the YAML side; this
/// wrapper exists because that one cannot be stored: it serializes the value alone, and its
/// `Location` has no public constructor. In a non-human-readable format (postcard, for the
/// compiled catalogue) it is the tuple (value, location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub referenced: Location,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
            let at = s.referenced;
            let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
            Ok(Spanned {
                value: s.value,
                referenced: Location {
                    line: clamp(at.line()),
                    column: clamp(at.column()),
                },
            })
        } else {
            let (value, referenced) = <(T, Location)>::deserialize(d)?;
            Ok(Spanned { value, referenced })
        }
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.value.serialize(s)
        } else {
            (&self.value, self.referenced).serialize(s)
        }
    }
}

/// Choices that carry a value (`getpid: {expect: 1}`, `kernel: "5.0"`, `errno: ESRCH`) are read
/// through [`OneKey`] rather than serde-saphyr's own enum support: given a bare scalar naming
/// such a variant (`- getpid`), serde-saphyr takes the NEXT node as its value — the following
/// list item or mapping key — so `[getpid, {expect: 7}]` was read as one step and
/// `[kernel, "5.0"]` as one requirement. Here a scalar must name a variant without a value, and
/// a mapping must have exactly one key. `remote = "Self"` on these enums makes serde's derived
/// code an inherent `deserialize`/`serialize`, which the trait impls below call (postcard, for
/// the compiled catalogue, uses it as it is).
trait Derived<'de>: Sized {
    /// What the choice is called in messages ("a step").
    const WHAT: &'static str;
    /// How a choice with a value is written, for the message about a bare name.
    const FORM: &'static str;
    /// The rule a mapping with a second key breaks.
    const ONE_KEY: &'static str;
    fn derived<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

macro_rules! one_key_enum {
    ($ty:ty, $what:literal, $form:literal, $one_key:literal) => {
        impl<'de> Derived<'de> for $ty {
            const WHAT: &'static str = $what;
            const FORM: &'static str = $form;
            const ONE_KEY: &'static str = $one_key;
            fn derived<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::deserialize(d) // the inherent one serde derived (remote = "Self")
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    d.deserialize_any(OneKey(std::marker::PhantomData))
                } else {
                    <$ty as Derived>::derived(d)
                }
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, s) // the inherent one serde derived (remote = "Self")
            }
        }
    };
}

one_key_enum!(
    RawRequirement,
    "a requirement",
    "`{name}: VALUE`",
    "a requirement with a value is a one-key mapping such as `kernel: \"5.0\"`"
);
one_key_enum!(
    RawOutcome,
    "`ok` or `errno: NAME`",
    "`{name}: VALUE`",
    "an outcome is `ok` or a one-key mapping such as `errno: ESRCH`"
);
one_key_enum!(
    RawWaitStatus,
    "`exited: CODE`, `signaled: SIGNAL` or `errno: NAME`",
    "`{name}: VALUE`",
    "a wait status is a one-key mapping such as `exited: 0`"
);
one_key_enum!(
    RawNsIoctlExpect,
    "`harness`, `new`, `uid: N`, `nstype: KIND`, `pid: N` or `errno: NAME`",
    "`{name}: VALUE`",
    "an `ns_ioctl` expectation is `harness`, `new` or a one-key mapping such as `errno: EPERM`"
);
one_key_enum!(
    RawStep,
    "a step, a one-key mapping such as `- getpid: {}`",
    "`- {name}: {}` (its arguments, if any, inside the braces)",
    "a step is a one-key mapping (give each step its own `- ` item)"
);

struct OneKey<T>(std::marker::PhantomData<T>);

impl<'de, T: Derived<'de>> serde::de::Visitor<'de> for OneKey<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(T::WHAT)
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<T, E> {
        T::derived(BareName::<E> {
            name,
            form: T::FORM,
            error: std::marker::PhantomData,
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let value = T::derived(serde::de::value::MapAccessDeserializer::new(&mut map))?;
        // The error is raised while the second key itself is read, so that it points there.
        match map.next_key_seed(SecondKey(T::ONE_KEY))? {
            None => Ok(value),
            Some(never) => match never {},
        }
    }
}

/// Refuses any key it is given, naming it: a second key where one is allowed.
struct SecondKey(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for SecondKey {
    type Value = std::convert::Infallible;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for SecondKey {
    type Value = std::convert::Infallible;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("no second key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "`{key}` is a second key: {}",
            self.0
        )))
    }
}

/// A bare scalar as an enum: its variant must be one without a value.
struct BareName<'a, E> {
    name: &'a str,
    form: &'static str,
    error: std::marker::PhantomData<E>,
}

impl<'de, E: serde::de::Error> Deserializer<'de> for BareName<'_, E> {
    type Error = E;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        v.visit_str(self.name)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, E> {
        v.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, E: serde::de::Error> serde::de::EnumAccess<'de> for BareName<'_, E> {
    type Error = E;
    type Variant = Self;

    fn variant_seed<S: serde::de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), E> {
        use serde::de::IntoDeserializer;
        let variant = seed.deserialize(self.name.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de, E: serde::de::Error> serde::de::VariantAccess<'de> for BareName<'_, E> {
    type Error = E;

    fn unit_variant(self) -> Result<(), E> {
        Ok(())
    }

    fn newtype_variant_seed<S: serde::de::DeserializeSeed<'de>>(self, _: S) -> Result<S::Value, E> {
        Err(self.needs_value())
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, E> {
        Err(self.needs_value())
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, E> {
        Err(self.needs_value())
    }
}

impl<E: serde::de::Error> BareName<'_, E> {
    fn needs_value(&self) -> E {
        E::custom(format_args!(
            "`{}` needs a value: write {}",
            self.name,
            self.form.replace("{name}", self.name)
        ))
    }
}

/// One scenario file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Short identifier (`nsspec list` shows it when there is no description); reports and trial
    /// names use the file's path.
    pub name: Spanned<String>,
    /// What the scenario demonstrates, in a sentence or two.
    #[serde(default)]
    pub description: Option<String>,
    /// Host capabilities the scenario needs beyond the namespaces it lists.
    #[serde(default)]
    pub requires: Vec<Spanned<RawRequirement>>,
    /// The namespaces the scenario's init is created in.
    pub namespaces: Vec<Spanned<NsKind>>,
    /// How /proc is set up for init before its first step.
    #[serde(default)]
    pub proc: Option<Spanned<ProcSetup>>,
    /// Time limit in seconds for the whole scenario (default 5).
    #[serde(default)]
    pub timeout: Option<Spanned<f64>>,
    /// Most processes the scenario may have at once (default 1024), enforced by a pids cgroup
    /// or RLIMIT_NPROC.
    #[serde(default)]
    pub pids_max: Option<Spanned<i64>>,
    /// The steps of the scenario's init process.
    pub steps: Vec<Spanned<RawStep>>,
    /// What happens and is checked outside the namespaces.
    #[serde(default)]
    pub host: Option<RawHost>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, remote = "Self")]
pub enum RawRequirement {
    /// Real privilege: CAP_SYS_ADMIN where nsspec runs, not only inside a user namespace of its
    /// own (rootless mode).
    Root,
    /// Processes without capabilities may create user namespaces (user.max_user_namespaces > 0,
    /// and neither kernel.unprivileged_userns_clone nor AppArmor forbids it).
    UnprivilegedUserns,
    /// setgroups(2) is allowed in the user namespace nsspec runs in and every one above it
    /// (not so under `unshare -Ur`, nor in rootless mode): a new user namespace inherits "deny".
    Setgroups,
    /// A minimum kernel version, "MAJOR.MINOR".
    Kernel(String),
    /// Kernels strictly older than "MAJOR.MINOR".
    KernelBelow(String),
    /// A sysctl comparison such as "user.max_user_namespaces > 0" or "kernel.pid_max >= 32768".
    Sysctl(Spanned<String>),
    /// nsspec runs in the initial namespace of this kind (`pid` or `user`): nesting limits
    /// count from there, so a scenario that reaches one must not start inside a container.
    InitialNamespace(Spanned<NsKind>),
}

/// Namespace kinds, named as in /proc/PID/ns and unshare(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NsKind {
    Pid,
    Mount,
    Uts,
    Ipc,
    User,
    Net,
    Cgroup,
    Time,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcSetup {
    /// Keep the /proc init inherits (the harness's, showing the outer PID namespace).
    #[default]
    Inherit,
    /// Make all mounts private, then mount a new procfs on /proc (needs `mount`).
    Fresh,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Steps of a process outside the scenario's namespaces, started alongside init.
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    /// Whether /proc of the outer view (mount table and /proc/self) is as before the scenario.
    #[serde(default)]
    pub proc_intact: Option<Spanned<bool>>,
    /// Whether the outer view's hostname is as before the scenario.
    #[serde(default)]
    pub hostname_intact: Option<Spanned<bool>>,
}

/// The result of a call that either succeeds or fails with an errno: `ok` or `{errno: ESRCH}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", remote = "Self")]
pub enum RawOutcome {
    Ok,
    Errno(Spanned<String>),
}

/// How a waited-for process ended: `{exited: 0}` or `{signaled: KILL}`; or how waitpid()
/// failed: `{errno: ECHILD}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", remote = "Self")]
pub enum RawWaitStatus {
    Exited(Spanned<i64>),
    Signaled(Spanned<String>),
    Errno(Spanned<String>),
}

/// One step, written as a single-key map: `- getpid: {expect: 1}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", remote = "Self")]
pub enum RawStep {
    Getpid(Box<ValueArgs>),
    Getppid(Box<ValueArgs>),
    Getpgid(Box<ValueArgs>),
    Getsid(Box<ValueArgs>),
    Setsid(Box<SetsidArgs>),
    Fork(Box<ForkArgs>),
    Thread(Box<ThreadArgs>),
    Enter(Box<EnterArgs>),
    Setns(Box<SetnsArgs>),
    Exit(Box<ExitArgs>),
    Kill(Box<KillArgs>),
    PidfdOpen(Box<PidfdOpenArgs>),
    PidfdSignal(Box<PidfdSignalArgs>),
    PidfdNs(Box<PidfdNsArgs>),
    PidfdFdinfo(Box<PidfdFdinfoArgs>),
    Wait(Box<WaitArgs>),
    ListPids(Box<ListPidsArgs>),
    Nspid(Box<NspidArgs>),
    Visible(Box<VisibleArgs>),
    MountProc(Box<MountProcArgs>),
    MountTmpfs(Box<MountTmpfsArgs>),
    Chroot(Box<ChrootArgs>),
    Crash(Box<CrashArgs>),
    ForkBomb(Box<ForkBombArgs>),
    Umount(Box<UmountArgs>),
    Unshare(Box<UnshareArgs>),
    NestPid(Box<NestPidArgs>),
    Sethostname(Box<SethostnameArgs>),
    Gethostname(Box<GethostnameArgs>),
    SetPdeathsig(Box<PdeathsigArgs>),
    SetDumpable(Box<DumpableArgs>),
    SetSubreaper(Box<SubreaperArgs>),
    Catch(Box<CatchArgs>),
    Caught(Box<CaughtArgs>),
    Getuid(Box<ValueArgs>),
    Getgid(Box<ValueArgs>),
    Read(Box<ReadArgs>),
    Write(Box<WriteArgs>),
    HasCap(Box<HasCapArgs>),
    DropCaps(Box<Empty>),
    SetIds(Box<SetIdsArgs>),
    Notify(Box<EventArgs>),
    Await(Box<EventArgs>),
    Sleep(Box<SleepArgs>),
    Pause(Box<Empty>),
    SysvGet(Box<SysvGetArgs>),
    MqOpen(Box<MqOpenArgs>),
    Links(Box<LinksArgs>),
    LinkUp(Box<LinkUpArgs>),
    Bind(Box<SocketArgs>),
    Connect(Box<SocketArgs>),
    Cgroup(Box<CgroupArgs>),
    CgroupEnter(Box<CgroupEnterArgs>),
    Clock(Box<ClockArgs>),
    Ns(Box<NsArgs>),
    NsIoctl(Box<NsIoctlArgs>),
    MountCgroup(Box<MountCgroupArgs>),
    Subdirs(Box<SubdirsArgs>),
    BindMount(Box<BindMountArgs>),
    Propagation(Box<PropagationArgs>),
    Mounts(Box<MountsArgs>),
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ValueArgs {
    #[serde(default)]
    pub expect: Option<Spanned<i64>>,
}

/// setresgid() then setresuid(), all three ids each, supplementary groups dropped first
/// unless `keep_groups`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetIdsArgs {
    pub uid: Spanned<i64>,
    pub gid: Spanned<i64>,
    #[serde(default)]
    pub keep_groups: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetsidArgs {
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForkArgs {
    pub name: Spanned<String>,
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    /// The PID fork() returns to the parent, in the parent's namespace.
    #[serde(default)]
    pub pid: Option<Spanned<i64>>,
    /// New namespaces to create the child in: clone(2) with their CLONE_NEW* flags.
    #[serde(default)]
    pub namespaces: Vec<Spanned<NsKind>>,
    /// The PIDs to give the child, innermost namespace first: clone3(2)'s set_tid.
    #[serde(default)]
    pub set_tid: Vec<Spanned<i64>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// setns(2) of the process itself into another process's namespaces.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetnsArgs {
    /// Whose namespaces to join.
    pub target: Spanned<String>,
    /// Spanned as a whole, so that an empty list can be pointed at.
    pub namespaces: Spanned<Vec<Spanned<NsKind>>>,
    /// One setns(2) on a pidfd of the target (Linux 5.8) instead of one per namespace file.
    #[serde(default)]
    pub pidfd: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// pthread_create() of a thread that only sleeps until its process ends, runs `steps`, or
/// takes the process over.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadArgs {
    /// The thread's ID (gettid()), in the process's PID namespace.
    #[serde(default)]
    pub tid: Option<Spanned<i64>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
    /// Steps the thread runs (and then ends) while the process's other steps wait for it;
    /// without any it sleeps until the process ends. Spanned as a whole, so that an empty
    /// list can be pointed at.
    #[serde(default)]
    pub steps: Option<Spanned<Vec<Spanned<RawStep>>>>,
    /// The thread runs the process's remaining steps and the creating thread ends (exit(2),
    /// not exit_group(2)), as a C program's main() that starts a thread and pthread_exit()s.
    #[serde(default)]
    pub take_over: Option<Spanned<bool>>,
    /// How many steps the plan moved from `steps` into the process's own list, right after
    /// this one (see `plan::flatten_threads`).
    #[serde(skip)]
    pub inner: usize,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnterArgs {
    pub name: Spanned<String>,
    /// Whose namespaces to join (setns), like nsenter --target.
    pub target: Spanned<String>,
    /// Spanned as a whole, so that an empty list can be pointed at.
    pub namespaces: Spanned<Vec<Spanned<NsKind>>>,
    /// Join them all with one setns(2) on a pidfd of the target (Linux 5.8) instead of one
    /// setns per /proc/PID/ns file.
    #[serde(default)]
    pub pidfd: bool,
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExitArgs {
    pub code: Spanned<i64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KillArgs {
    /// A process (by name), `-1` or `0`; or else `group`.
    #[serde(default)]
    pub pid: Option<Spanned<String>>,
    /// The process group a process leads: kill(-PGID).
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    #[serde(default)]
    pub signal: Option<Spanned<String>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// pidfd_open(2) of a process; the descriptor is kept under the name `as` for
/// `pidfd_signal` steps of this process and of the children it creates afterwards.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PidfdOpenArgs {
    pub pid: Spanned<String>,
    #[serde(rename = "as")]
    pub handle: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// A PIDFD_GET_*_NAMESPACE ioctl on a kept pidfd (Linux 6.11): the namespace of that kind
/// its process is in.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PidfdNsArgs {
    pub pidfd: Spanned<String>,
    pub kind: Spanned<NsKind>,
    /// `pid_for_children` or `time_for_children` instead of the process's own.
    #[serde(default)]
    pub for_children: bool,
    /// `harness`, `new` or `{ errno: NAME }`.
    #[serde(default)]
    pub expect: Option<Spanned<RawNsIoctlExpect>>,
}

/// The NSpid line of a kept pidfd's /proc/self/fdinfo entry.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PidfdFdinfoArgs {
    pub pidfd: Spanned<String>,
    /// The NSpid line: space-separated PIDs, `*` for any one; or `0`, or `-1`.
    #[serde(default)]
    pub expect: Option<Spanned<String>>,
}

/// pidfd_send_signal(2) through a descriptor a `pidfd_open` step kept.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PidfdSignalArgs {
    pub pidfd: Spanned<String>,
    #[serde(default)]
    pub signal: Option<Spanned<String>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaitArgs {
    pub pid: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawWaitStatus>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListPidsArgs {
    #[serde(default)]
    pub expect: Option<Vec<Spanned<i64>>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NspidArgs {
    /// Space-separated PIDs, outermost first; `*` matches any one PID.
    #[serde(default)]
    pub expect: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisibleArgs {
    pub pid: Spanned<String>,
    #[serde(default)]
    pub expect: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MountProcArgs {
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    /// procfs mount options (proc(5)): `subset=pid`, `hidepid=…`; Linux 5.8 and later.
    #[serde(default)]
    pub options: Vec<Spanned<String>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UnshareArgs {
    /// Spanned as a whole, so that an empty list can be pointed at.
    pub namespaces: Spanned<Vec<Spanned<NsKind>>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NestPidArgs {
    /// How many further PID namespaces to try to create, each inside the last.
    pub depth: Spanned<i64>,
    #[serde(default)]
    pub expect: Option<RawNestExpect>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNestExpect {
    /// The deepest PID-namespace level reached, counted from the harness's own (level 0).
    pub max_level: Spanned<i64>,
    /// The errno of the first unshare(CLONE_NEWPID) that failed, if one did.
    #[serde(default)]
    pub errno: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SethostnameArgs {
    pub name: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GethostnameArgs {
    #[serde(default)]
    pub expect: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PdeathsigArgs {
    pub signal: Spanned<String>,
}

/// prctl(PR_SET_DUMPABLE).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DumpableArgs {
    pub dumpable: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// prctl(PR_SET_CHILD_SUBREAPER).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubreaperArgs {
    pub subreaper: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// sigaction(2): a handler that records each delivery of `signal` with its sender.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatchArgs {
    pub signal: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// The deliveries a `catch` handler recorded: each sender's si_pid, in order.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaughtArgs {
    pub signal: Spanned<String>,
    #[serde(default)]
    pub expect: Option<Vec<Spanned<i64>>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventArgs {
    pub event: Spanned<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SleepArgs {
    pub ms: Spanned<i64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// With `pid`, a file name in that process's /proc/PID (uid_map, gid_map, …).
    pub path: Spanned<String>,
    /// Whose /proc files to read: a process of the scenario.
    #[serde(default)]
    pub pid: Option<Spanned<String>>,
    /// The content, compared with runs of white space folded to one space and trimmed; or
    /// `{errno: NAME}`, how opening or reading the file fails.
    #[serde(default)]
    pub expect: Option<Spanned<RawReadExpect>>,
}

/// What a `read` step expects: text, or an errno (`{errno: EACCES}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", remote = "Self")]
pub enum RawReadExpect {
    Text(String),
    Errno(Spanned<String>),
    /// A plain scalar YAML typed as a number or boolean (its value as Rust writes it), until
    /// [`parse`] finds its text in the source; left so only where that text is not the
    /// scalar's own (an alias, an anchor or a tag before it).
    Typed(String),
}

impl<'de> Deserialize<'de> for RawReadExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(ReadExpectVisitor)
        } else {
            RawReadExpect::deserialize(d) // the inherent one serde derived (remote = "Self")
        }
    }
}

impl Serialize for RawReadExpect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawReadExpect::serialize(self, s) // the inherent one serde derived (remote = "Self")
    }
}

/// A scalar is the text; a mapping is `{errno: NAME}`. YAML types a plain `0x1f`, `+1` or
/// `True` as a number or boolean, whose value no longer says how it was written: such a
/// scalar comes back as [`RawReadExpect::Typed`], and [`parse`] puts its source text back.
struct ReadExpectVisitor;

impl<'de> serde::de::Visitor<'de> for ReadExpectVisitor {
    type Value = RawReadExpect;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the text to expect, or `errno: NAME`")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawReadExpect::Text(v.to_string()))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(RawReadExpect::Typed(v.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawReadExpect::Typed(v.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawReadExpect::Typed(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawReadExpect::Typed(v.to_string()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let value =
            RawReadExpect::deserialize(serde::de::value::MapAccessDeserializer::new(&mut map))?;
        match value {
            RawReadExpect::Errno(_) => {}
            RawReadExpect::Text(_) | RawReadExpect::Typed(_) => {
                return Err(serde::de::Error::custom(
                    "the expected text is a scalar (`expect: \"0 0 1\"`); a mapping is \
                     `errno: NAME`",
                ));
            }
        }
        match map.next_key_seed(SecondKey(
            "a `read` expectation is the text or a one-key mapping such as `errno: EACCES`",
        ))? {
            None => Ok(value),
            Some(never) => match never {},
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WriteArgs {
    /// With `pid`, a file name in that child's /proc/PID (uid_map, gid_map, setgroups).
    pub path: Spanned<String>,
    /// Whose /proc files to write: a child of the writing process.
    #[serde(default)]
    pub pid: Option<Spanned<String>>,
    pub content: String,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HasCapArgs {
    /// A capability name: SYS_ADMIN or CAP_SYS_ADMIN.
    pub cap: Spanned<String>,
    #[serde(default)]
    pub expect: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MountTmpfsArgs {
    pub target: Spanned<String>,
    /// Directories made in the new tmpfs once it is mounted: single names such as `proc`.
    #[serde(default)]
    pub dirs: Vec<Spanned<String>>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChrootArgs {
    pub path: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UmountArgs {
    pub target: Spanned<String>,
    /// Detach lazily (MNT_DETACH), as `umount -l` does.
    #[serde(default)]
    pub lazy: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrashArgs {
    pub how: CrashKind,
}

/// How a `crash` step dies. Both are raised by the kernel or the C library, not sent with
/// kill(), so they kill even a PID namespace's init (which ignores signals from inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CrashKind {
    /// A write through a null pointer: SIGSEGV.
    Segv,
    /// abort(3): SIGABRT, or SIGSEGV/SIGILL when the process ignores SIGABRT.
    Abort,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForkBombArgs {
    /// The errno fork() fails with once the limit is reached (default EAGAIN).
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// A System V IPC object type, named as ipcs(1) lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SysvKind {
    /// A shared memory segment: shmget(2).
    Shm,
    /// A message queue: msgget(2).
    Msg,
    /// A semaphore set: semget(2).
    Sem,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SysvGetArgs {
    pub object: SysvKind,
    /// The IPC key, 1 to 2^31-1 (0 is IPC_PRIVATE, which never finds an existing object).
    pub key: Spanned<i64>,
    /// Create the object (IPC_CREAT|IPC_EXCL): EEXIST when it exists. Otherwise only look it
    /// up: ENOENT when it does not.
    #[serde(default)]
    pub create: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MqOpenArgs {
    /// The queue's name: `/` then 1-255 characters, no further `/`.
    pub name: Spanned<String>,
    /// Create the queue (O_CREAT|O_EXCL): EEXIST when it exists. Otherwise only open it:
    /// ENOENT when it does not.
    #[serde(default)]
    pub create: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinksArgs {
    /// Every interface of the process's network namespace as `NAME up` or `NAME down`.
    #[serde(default)]
    pub expect: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkUpArgs {
    /// The interface, e.g. `lo`.
    pub name: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// A socket type for `bind` and `connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketKind {
    Tcp,
    Udp,
    /// AF_UNIX, SOCK_STREAM, at an abstract address (`@name`).
    Unix,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SocketArgs {
    pub socket: SocketKind,
    /// `127.0.0.1:PORT` (any 127.x.y.z) for tcp and udp; `@name` (abstract) for unix.
    pub address: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CgroupArgs {
    /// Whose cgroup to show (default `self`), as the calling process's cgroup namespace sees it.
    #[serde(default)]
    pub pid: Option<Spanned<String>>,
    #[serde(default)]
    pub expect: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CgroupEnterArgs {
    /// A cgroup below the scenario's own, created if missing: `a`, `a/b`; `.` is the
    /// scenario's cgroup itself.
    pub path: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// A clock for the `clock` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockKind {
    Monotonic,
    Boottime,
    Realtime,
    /// The first field of /proc/uptime (CLOCK_BOOTTIME, as the reader's time namespace shows it).
    Uptime,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClockArgs {
    pub clock: ClockKind,
    /// Seconds by which the process's clock is expected to be ahead of (negative: behind) the
    /// same clock in the harness's time namespace (default 0).
    #[serde(default)]
    pub shift: Option<Spanned<i64>>,
    /// Whether the clock reads the harness's clock shifted by `shift`.
    #[serde(default)]
    pub expect: Option<bool>,
}

/// Which of a process's namespaces an `ns` step looks at.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NsArgs {
    pub kind: Spanned<NsKind>,
    /// `/proc/self/ns/pid_for_children` or `time_for_children` instead of the process's own.
    #[serde(default)]
    pub for_children: bool,
    /// `harness` (the harness's own namespace of that kind) or `new` (any other).
    #[serde(default)]
    pub expect: Option<NsIs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NsIs {
    Harness,
    New,
}

/// An ioctl_ns(2) request applied to a namespace file of the process (or of another one).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NsIoctlArgs {
    /// Whose /proc/PID/ns is opened (default `self`).
    #[serde(default)]
    pub pid: Option<Spanned<String>>,
    /// Which file of /proc/PID/ns is opened.
    pub kind: Spanned<NsKind>,
    /// `pid_for_children` or `time_for_children` instead of the process's own.
    #[serde(default)]
    pub for_children: bool,
    pub request: Spanned<NsRequest>,
    /// The PID the translation requests translate: as the caller's PID namespace numbers it
    /// (`NS_GET_PID_IN_PIDNS`, `NS_GET_TGID_IN_PIDNS`) or as the file's does (`…_FROM_PIDNS`).
    #[serde(default)]
    pub arg: Option<Spanned<i64>>,
    #[serde(default)]
    pub expect: Option<RawNsIoctlExpect>,
}

/// The requests of ioctl_ns(2), spelt as there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum NsRequest {
    /// The parent of a PID or user namespace (a new descriptor).
    #[serde(rename = "NS_GET_PARENT")]
    Parent,
    /// The user namespace that owns the namespace (a new descriptor).
    #[serde(rename = "NS_GET_USERNS")]
    Userns,
    /// The UID of a user namespace's creator, as the caller's user namespace maps it.
    #[serde(rename = "NS_GET_OWNER_UID")]
    OwnerUid,
    /// The namespace's CLONE_NEW* flag.
    #[serde(rename = "NS_GET_NSTYPE")]
    Nstype,
    /// A PID of the file's PID namespace, as the caller's numbers that task (Linux 6.11).
    #[serde(rename = "NS_GET_PID_FROM_PIDNS")]
    PidFromPidns,
    /// The same, for the task's thread-group leader.
    #[serde(rename = "NS_GET_TGID_FROM_PIDNS")]
    TgidFromPidns,
    /// A PID of the caller's PID namespace, as the file's numbers that task.
    #[serde(rename = "NS_GET_PID_IN_PIDNS")]
    PidInPidns,
    /// The same, for the task's thread-group leader.
    #[serde(rename = "NS_GET_TGID_IN_PIDNS")]
    TgidInPidns,
}

impl NsRequest {
    pub fn name(self) -> &'static str {
        match self {
            NsRequest::Parent => "NS_GET_PARENT",
            NsRequest::Userns => "NS_GET_USERNS",
            NsRequest::OwnerUid => "NS_GET_OWNER_UID",
            NsRequest::Nstype => "NS_GET_NSTYPE",
            NsRequest::PidFromPidns => "NS_GET_PID_FROM_PIDNS",
            NsRequest::TgidFromPidns => "NS_GET_TGID_FROM_PIDNS",
            NsRequest::PidInPidns => "NS_GET_PID_IN_PIDNS",
            NsRequest::TgidInPidns => "NS_GET_TGID_IN_PIDNS",
        }
    }

    /// Whether it translates a PID between PID namespaces (and takes `arg`).
    pub fn translates(self) -> bool {
        matches!(
            self,
            NsRequest::PidFromPidns
                | NsRequest::TgidFromPidns
                | NsRequest::PidInPidns
                | NsRequest::TgidInPidns
        )
    }
}

/// What an `ns_ioctl` step expects: the namespace a descriptor-returning request gives
/// (`harness` or `new`, as for `ns`), a uid, a type, a PID, or an errno.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", remote = "Self")]
pub enum RawNsIoctlExpect {
    Harness,
    New,
    Uid(Spanned<i64>),
    Nstype(Spanned<NsKind>),
    Pid(Spanned<i64>),
    Errno(Spanned<String>),
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MountCgroupArgs {
    /// Where to mount the scenario's cgroup hierarchy (cgroup2, or the v1 pids hierarchy).
    pub target: Spanned<String>,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubdirsArgs {
    pub path: Spanned<String>,
    /// The names of the directories in `path`, sorted.
    #[serde(default)]
    pub expect: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BindMountArgs {
    pub source: Spanned<String>,
    pub target: Spanned<String>,
    /// MS_REC: the mounts below `source` too, as `mount --rbind` does.
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

/// The propagation type of a mount (mount_namespaces(7), "Shared subtrees").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PropagationKind {
    Shared,
    Slave,
    Private,
    Unbindable,
}

impl PropagationKind {
    pub fn name(self) -> &'static str {
        match self {
            PropagationKind::Shared => "shared",
            PropagationKind::Slave => "slave",
            PropagationKind::Private => "private",
            PropagationKind::Unbindable => "unbindable",
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PropagationArgs {
    pub target: Spanned<String>,
    pub kind: PropagationKind,
    /// MS_REC: every mount below `target` too, as `mount --make-rshared` does.
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub expect: Option<RawOutcome>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MountsArgs {
    /// The mount point whose mounts (it and every mount below it) are listed.
    pub under: Spanned<String>,
    /// `POINT FSTYPE PROPAGATION` per mount, in mount-point order, PROPAGATION being
    /// `private`, `shared`, `slave`, `shared+slave` or `unbindable`.
    #[serde(default)]
    pub expect: Option<Vec<Spanned<String>>>,
}
