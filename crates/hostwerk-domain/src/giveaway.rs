//! Blog giveaways: a frozen, numbered entry list and a draw that anyone can check.
//!
//! A giveaway ("three conference tickets among everyone who comments on this post until 31 March") runs in
//! four steps. This module is pure: the caller supplies the random seed, the comments and the clock.
//!
//! 1. **Announce.** hostwerk draws a secret 32-byte [`Seed`] and publishes its [`Commitment`],
//!    `SHA-256(seed)` as 64 lower-case hex digits, together with the title, the closing instant and the number
//!    of prizes ([`Announcement`]).
//! 2. **Freeze.** After closing, [`freeze_entries`] turns the comments into the entry list:
//!    * Times are whole seconds (sub-second parts are dropped). A comment counts when its time is **at or
//!      before** the closing instant; one second later it does not.
//!    * E-mail addresses are normalised by trimming surrounding whitespace and lower-casing (Unicode
//!      lower case). Nothing else: `anna+blog@example.com` and `anna@example.com` are two people, and so are
//!      `a.nna@gmail.com` and `anna@gmail.com`. Folding sub-addresses or dots is provider-specific guesswork.
//!    * Comments from excluded addresses are set aside ([`Exclusions`]: the staff's addresses, their
//!      relatives' addresses, and optionally whole domains such as the provider's own).
//!    * All comments with the same normalised e-mail address are merged into one entry that keeps the times of
//!      all of them (for the note "Kommentare vom … und … wurden zusammengefasst", see [`Entry::merge_note`]).
//!      Its display name is the first non-empty (trimmed) name of its comments in time order.
//!    * Entries are numbered 1..n in the order of their first comment; equal times are ordered by comment id.
//! 3. **Draw.** Staff may enter a public beacon (any string, e.g. the randomness of a drand round that
//!    ends after the entry list was frozen); hostwerk reveals the seed and [`draw`]s the winners.
//! 4. **Publish.** The [`PublishedDraw`] (JSON) holds everything needed for [`verify`].
//!
//! # The scheme, for a re-implementation
//!
//! All integers below are **8 bytes, big-endian** (times are signed Unix seconds, two's complement), `||`
//! is concatenation, strings are UTF-8, and `H` is SHA-256.
//!
//! * Commitment: `H(seed)` over the 32 raw seed bytes.
//! * E-mail hash of an entry: `H(commitment || normalised_email)` over the 32 raw commitment bytes. It is
//!   salted per giveaway so that hashes cannot be linked across giveaways or looked up in a table of known
//!   addresses' hashes; it does **not** hide whether a *guessed* address took part (anyone who knows the address
//!   can recompute it). Participants use it to find their own entry ([`email_hash`]). The addresses
//!   themselves are never published.
//! * Entry-list hash:
//!   `H("hostwerk giveaway entries v1" || n || for each entry in order: number || len(name) || name ||
//!   email_hash (32 raw bytes) || first_comment_at || count(comment_times) || each comment time)`.
//! * Random words: block `i` (i = 0, 1, 2, …) is
//!   `H("hostwerk giveaway draw v1" || seed || list_hash || len(beacon) || beacon || i)` with seed and
//!   list hash as 32 raw bytes each; every block yields four unsigned 64-bit words (bytes 0–7, 8–15, 16–23,
//!   24–31, big-endian), used in that order. No beacon is the empty string.
//! * A uniform number below `m`: take the next word `x`; reject it and take the next one while
//!   `x >= 2^64 - (2^64 mod m)`; the result is `x mod m` (no modulo bias). A word is consumed even when `m = 1`.
//! * Winners (partial Fisher–Yates): `pool = [1, 2, …, n]`; for `i` in `0 .. min(k, n)`:
//!   `j = i + uniform(n - i)`, swap `pool[i]` and `pool[j]`. The winners, in draw order, are
//!   `pool[0 .. min(k, n)]`. With fewer entries than prizes every entry wins (in drawn order). The draw
//!   for `k` prizes is a prefix of the draw for `k + 1`, so later-drawn entries can serve as substitutes.
//!
//! `verify` checks, in this order: the version; `H(seed) = commitment`; the entry-list hash; that the list is
//! well-formed (numbered 1..n, each entry's times ascending with the first one first and none after closing,
//! entries in order of first comment, no e-mail hash twice); and that the winners equal the recomputed draw.
//! Title, closing instant and `k` are not inputs to the randomness.
//!
//! The draw, in Python (an independent check of the description above):
//!
//! ```text
//! import hashlib, struct
//! H = lambda b: hashlib.sha256(b).digest()
//! u64 = lambda v: struct.pack(">Q", v)
//! i64 = lambda v: struct.pack(">q", v)
//! def list_hash(entries):  # [(number, name, email_hash_bytes, [unix seconds, ...]), ...]
//!     b = b"hostwerk giveaway entries v1" + u64(len(entries))
//!     for number, name, email_hash, times in entries:
//!         name = name.encode()
//!         b += u64(number) + u64(len(name)) + name + email_hash + i64(times[0]) + u64(len(times))
//!         b += b"".join(i64(t) for t in times)
//!     return H(b)
//! def winners(seed, list_hash, beacon, n, k):
//!     beacon = beacon.encode()
//!     def words():
//!         i = 0
//!         while True:
//!             block = H(b"hostwerk giveaway draw v1" + seed + list_hash + u64(len(beacon)) + beacon + u64(i))
//!             for w in range(4):
//!                 yield int.from_bytes(block[8 * w : 8 * w + 8], "big")
//!             i += 1
//!     ws = words()
//!     def uniform(m):
//!         while True:
//!             x = next(ws)
//!             if x < 2**64 - 2**64 % m:
//!                 return x % m
//!     pool = list(range(1, n + 1))
//!     for i in range(min(k, n)):
//!         j = i + uniform(n - i)
//!         pool[i], pool[j] = pool[j], pool[i]
//!     return pool[: min(k, n)]
//! ```
//!
//! Test vector (the `known_answer` test): seed = 32 zero bytes, commitment
//! `66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925`; entries 1 "Anna" (anna@example.org,
//! 1393502640), 2 "Torben" (torben@example.org, 1393502640 and 1393510680), 3 "Chris" (chris@example.org,
//! 1393520000), 4 "Dana" (dana@example.org, 1393530000), 5 "Emil" (emil@example.org, 1393540000); Anna's e-mail
//! hash `d713569c36d12671b055164f5adc510664a4e5a7c879bea0157692c5701089db`, list hash
//! `adf914aad6fb10a1e7d86a6a8dfa8038baffbda23f9f686e01536e029d49c4f0`; beacon `beacon`, k = 3: winners 1, 4, 3.
//!
//! # What it proves
//!
//! The commitment stops hostwerk from choosing the seed after seeing the entries. It does not stop hostwerk,
//! which knows the seed, from trying out entry lists (say, adding a fake entry) until a wanted person wins. A
//! beacon that is unknown until after the entry list (or its hash) was published closes that gap, which is why
//! a beacon is recommended.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Berlin;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::Language;

/// The version of the scheme described in the module documentation.
pub const SCHEME_VERSION: u32 = 1;

const ENTRIES_TAG: &[u8] = b"hostwerk giveaway entries v1";
const DRAW_TAG: &[u8] = b"hostwerk giveaway draw v1";

/// A 32-byte value given as hex that is not 64 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("expected 64 hexadecimal digits (32 bytes), got {0} characters")]
    WrongLength(usize),
    #[error("expected hexadecimal digits (0-9, a-f)")]
    NotHex,
}

fn parse_32(input: &str) -> Result<[u8; 32], HexError> {
    let s = input.trim();
    if s.len() != 64 {
        return Err(HexError::WrongLength(s.chars().count()));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| HexError::NotHex)?;
    Ok(out)
}

/// A SHA-256 value (list hash, e-mail hash), shown and serialised as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest([u8; 32]);

impl Digest {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    pub fn parse_hex(input: &str) -> Result<Self, HexError> {
        parse_32(input).map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl FromStr for Digest {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, HexError> {
        Self::parse_hex(s)
    }
}

impl TryFrom<String> for Digest {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        Self::parse_hex(&s)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_hex()
    }
}

/// The secret 32 random bytes behind a giveaway's draw. `Debug` never prints them; [`Seed::to_hex`] does,
/// for storing and for revealing after the draw.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Seed([u8; 32]);

impl Seed {
    /// The caller draws the bytes from the operating system's random source.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// 64 hex digits (either case; surrounding whitespace ignored).
    pub fn parse_hex(input: &str) -> Result<Self, HexError> {
        parse_32(input).map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(…)")
    }
}

impl FromStr for Seed {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, HexError> {
        Self::parse_hex(s)
    }
}

impl TryFrom<String> for Seed {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        Self::parse_hex(&s)
    }
}

impl From<Seed> for String {
    fn from(s: Seed) -> String {
        s.to_hex()
    }
}

/// `SHA-256(seed)`, published when the giveaway is announced.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Commitment(Digest);

impl Commitment {
    pub fn of(seed: &Seed) -> Self {
        Self(Digest::of(seed.as_bytes()))
    }

    pub fn parse_hex(input: &str) -> Result<Self, HexError> {
        Digest::parse_hex(input).map(Self)
    }

    /// Whether `seed` is the seed this commits to.
    pub fn matches(&self, seed: &Seed) -> bool {
        *self == Self::of(seed)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({})", self.to_hex())
    }
}

impl FromStr for Commitment {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, HexError> {
        Self::parse_hex(s)
    }
}

/// Why announcing, freezing or drawing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiveawayError {
    #[error("the giveaway needs a title")]
    EmptyTitle,
    #[error("the giveaway needs at least one prize")]
    NoPrizes,
    #[error("comment {0} appears twice")]
    DuplicateCommentId(u64),
    #[error("comment {comment_id} has no e-mail address")]
    MissingEmail { comment_id: u64 },
    #[error("comment {comment_id} has a time outside the supported range")]
    TimeOutOfRange { comment_id: u64 },
    #[error("too many entries")]
    TooManyEntries,
    #[error("the seed does not match the commitment")]
    SeedDoesNotMatchCommitment,
    #[error("the entry list was frozen for another giveaway")]
    EntriesFromAnotherGiveaway,
    #[error("the closing time must be in the future")]
    ClosingInThePast,
}

/// Why a published draw does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("unsupported scheme version {0} (this verifier knows version {SCHEME_VERSION})")]
    UnsupportedVersion(u32),
    #[error("the seed does not match the commitment")]
    SeedMismatch,
    #[error("the entry list was changed: its hash is {computed}, the published hash is {published}")]
    EntryListHashMismatch { computed: Digest, published: Digest },
    #[error("the entry at position {position} has number {number}; entries must be numbered 1, 2, 3, … in order")]
    EntryNumbering { position: usize, number: u32 },
    #[error(
        "entry {number}: its comment times must be listed in ascending order, starting with its first comment time"
    )]
    CommentTimes { number: u32 },
    #[error("entry {number} has a comment after the closing time")]
    CommentAfterClosing { number: u32 },
    #[error("entry {number} commented before entry {previous}; entries must be in the order of their first comment")]
    EntryOrder { number: u32, previous: u32 },
    #[error("entries {first} and {second} have the same e-mail hash; one person must be one entry")]
    DuplicateEmailHash { first: u32, second: u32 },
    #[error("the winners do not match the draw: expected {expected:?}, published {published:?}")]
    WinnersMismatch { expected: Vec<u32>, published: Vec<u32> },
}

/// The e-mail normalisation used for merging and exclusion: trimmed and lower-cased, nothing more.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The published hash of an e-mail address in a giveaway: `SHA-256(commitment || normalised e-mail)`.
pub fn email_hash(commitment: &Commitment, email: &str) -> Digest {
    let mut h = Sha256::new();
    h.update(commitment.as_bytes());
    h.update(normalize_email(email).as_bytes());
    Digest(h.finalize().into())
}

/// The last second of a Berlin calendar day (23:59:59 local time), the closing instant of "until 31 March".
pub fn closing_at_end_of_berlin_day(date: NaiveDate) -> DateTime<Utc> {
    let local = date.and_hms_opt(23, 59, 59).unwrap_or_default();
    match Berlin.from_local_datetime(&local).latest() {
        Some(at) => at.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

/// What hostwerk publishes when a giveaway starts. Built only through [`Announcement::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    title: String,
    closing: DateTime<Utc>,
    prizes: u32,
    commitment: Commitment,
}

impl Announcement {
    /// `closing` is the last instant that counts (sub-seconds dropped); `commitment` is
    /// `Commitment::of(&seed)` for a fresh seed, or the stored commitment when reloading.
    pub fn new(
        title: &str,
        closing: DateTime<Utc>,
        prizes: u32,
        commitment: Commitment,
    ) -> Result<Self, GiveawayError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(GiveawayError::EmptyTitle);
        }
        if prizes == 0 {
            return Err(GiveawayError::NoPrizes);
        }
        Ok(Self { title: title.to_owned(), closing: closing.trunc_subsecs(0), prizes, commitment })
    }

    /// A new giveaway, announced at `now`: as [`Announcement::new`], and the closing time must lie after `now`
    /// (a giveaway that closed before it was announced would take no entries and could be drawn at once).
    pub fn announce(
        title: &str,
        closing: DateTime<Utc>,
        prizes: u32,
        commitment: Commitment,
        now: DateTime<Utc>,
    ) -> Result<Self, GiveawayError> {
        let announcement = Self::new(title, closing, prizes, commitment)?;
        if announcement.closing <= now.trunc_subsecs(0) {
            return Err(GiveawayError::ClosingInThePast);
        }
        Ok(announcement)
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn closing(&self) -> DateTime<Utc> {
        self.closing
    }

    pub fn prizes(&self) -> u32 {
        self.prizes
    }

    pub fn commitment(&self) -> Commitment {
        self.commitment
    }
}

/// One blog comment as the blog stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub at: DateTime<Utc>,
}

impl Comment {
    pub fn new(id: u64, name: impl Into<String>, email: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self { id, name: name.into(), email: email.into(), at }
    }

    /// A comment whose time is given as Unix seconds (UTC).
    pub fn at_unix(
        id: u64,
        name: impl Into<String>,
        email: impl Into<String>,
        unix_seconds: i64,
    ) -> Result<Self, GiveawayError> {
        let at = DateTime::from_timestamp(unix_seconds, 0).ok_or(GiveawayError::TimeOutOfRange { comment_id: id })?;
        Ok(Self::new(id, name, email, at))
    }
}

/// Who may not take part. Addresses and domains are compared after [`normalize_email`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    staff: BTreeSet<String>,
    relatives: BTreeSet<String>,
    domains: BTreeSet<String>,
}

impl Exclusions {
    pub fn new() -> Self {
        Self::default()
    }

    /// The staff's own addresses (always pass all of them).
    pub fn with_staff<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, addresses: I) -> Self {
        self.staff.extend(addresses.into_iter().map(|a| normalize_email(a.as_ref())));
        self
    }

    /// Addresses of the staff's relatives, as listed for this giveaway.
    pub fn with_relatives<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, addresses: I) -> Self {
        self.relatives.extend(addresses.into_iter().map(|a| normalize_email(a.as_ref())));
        self
    }

    /// Whole domains (the part after the last `@`, exact match, no subdomains), e.g. the provider's own.
    pub fn with_domains<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, domains: I) -> Self {
        self.domains
            .extend(domains.into_iter().map(|d| normalize_email(d.as_ref()).trim_start_matches('@').to_owned()));
        self
    }

    /// Why the (already normalised) address is excluded, if it is.
    fn reason(&self, normalized: &str) -> Option<SetAsideReason> {
        if self.staff.contains(normalized) {
            Some(SetAsideReason::Staff)
        } else if self.relatives.contains(normalized) {
            Some(SetAsideReason::Relative)
        } else if normalized.rsplit_once('@').is_some_and(|(_, d)| self.domains.contains(d)) {
            Some(SetAsideReason::ExcludedDomain)
        } else {
            None
        }
    }

    /// Whether an address (in any spelling that normalises alike) is excluded.
    pub fn excludes(&self, email: &str) -> bool {
        self.reason(&normalize_email(email)).is_some()
    }
}

/// Why a comment did not become (part of) an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetAsideReason {
    AfterClosing,
    Staff,
    Relative,
    ExcludedDomain,
}

/// A comment that does not take part, for the staff's review (never published).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAside {
    pub comment_id: u64,
    pub reason: SetAsideReason,
}

/// One numbered entry: one person, with all their counted comments merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1..n in the order of first comments.
    pub number: u32,
    pub display_name: String,
    /// See [`email_hash`].
    pub email_hash: Digest,
    /// Unix seconds in JSON.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub first_comment_at: DateTime<Utc>,
    /// The times of all merged comments, ascending, the first one equal to `first_comment_at` (Unix seconds in
    /// JSON). More than one means comments were merged.
    #[serde(with = "unix_seconds_vec")]
    pub comment_times: Vec<DateTime<Utc>>,
}

impl Entry {
    /// Whether several comments were merged into this entry.
    pub fn is_merged(&self) -> bool {
        self.comment_times.len() > 1
    }

    /// For the results list, in Berlin time, when comments were merged:
    /// "Kommentare vom 27. Februar 2014 13:04 Uhr und 27. Februar 2014 15:18 Uhr wurden zusammengefasst" /
    /// "comments of 27 February 2014 13:04 and 27 February 2014 15:18 were merged".
    pub fn merge_note(&self, lang: Language) -> Option<String> {
        if !self.is_merged() {
            return None;
        }
        let times: Vec<String> = self.comment_times.iter().map(|t| long_berlin_datetime(*t, lang)).collect();
        let (last, rest) = times.split_last()?;
        let joined = match lang {
            Language::De => format!("{} und {last}", rest.join(", ")),
            Language::En => format!("{} and {last}", rest.join(", ")),
        };
        Some(match lang {
            Language::De => format!("Kommentare vom {joined} wurden zusammengefasst"),
            Language::En => format!("comments of {joined} were merged"),
        })
    }
}

fn long_berlin_datetime(at: DateTime<Utc>, lang: Language) -> String {
    const DE: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let local = at.with_timezone(&Berlin);
    let month = local.month0() as usize;
    match lang {
        Language::De => {
            format!("{}. {} {} {:02}:{:02} Uhr", local.day(), DE[month], local.year(), local.hour(), local.minute())
        }
        Language::En => {
            format!("{} {} {} {:02}:{:02}", local.day(), EN[month], local.year(), local.hour(), local.minute())
        }
    }
}

mod unix_seconds_vec {
    use chrono::{DateTime, Utc};
    use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(times: &[DateTime<Utc>], s: S) -> Result<S::Ok, S::Error> {
        times.iter().map(|t| t.timestamp()).collect::<Vec<i64>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DateTime<Utc>>, D::Error> {
        Vec::<i64>::deserialize(d)?
            .into_iter()
            .map(|secs| DateTime::from_timestamp(secs, 0).ok_or_else(|| D::Error::custom("time out of range")))
            .collect()
    }
}

/// The frozen entry list of one giveaway. Built only by [`freeze_entries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryList {
    commitment: Commitment,
    closing: DateTime<Utc>,
    entries: Vec<Entry>,
    set_aside: Vec<SetAside>,
    hash: Digest,
}

impl EntryList {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Comments that did not count, by comment id, with the reason (for staff only).
    pub fn set_aside(&self) -> &[SetAside] {
        &self.set_aside
    }

    /// The entry-list hash, which may be published before the draw.
    pub fn hash(&self) -> Digest {
        self.hash
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Freezes the entry list: drops late comments and excluded people, merges each person's comments, numbers
/// the entries (see the module documentation for the exact rules).
pub fn freeze_entries(
    announcement: &Announcement,
    comments: &[Comment],
    exclusions: &Exclusions,
) -> Result<EntryList, GiveawayError> {
    let closing = announcement.closing.timestamp();
    let mut seen = BTreeSet::new();
    let mut set_aside = Vec::new();
    // normalised e-mail → its counted comments as (time, comment id, trimmed name)
    type Counted<'a> = (DateTime<Utc>, u64, &'a str);
    let mut people: BTreeMap<String, Vec<Counted<'_>>> = BTreeMap::new();
    for c in comments {
        if !seen.insert(c.id) {
            return Err(GiveawayError::DuplicateCommentId(c.id));
        }
        let email = normalize_email(&c.email);
        if email.is_empty() {
            return Err(GiveawayError::MissingEmail { comment_id: c.id });
        }
        let at = c.at.trunc_subsecs(0);
        let reason =
            if at.timestamp() > closing { Some(SetAsideReason::AfterClosing) } else { exclusions.reason(&email) };
        match reason {
            Some(reason) => set_aside.push(SetAside { comment_id: c.id, reason }),
            None => people.entry(email).or_default().push((at, c.id, c.name.trim())),
        }
    }
    set_aside.sort_by_key(|s| s.comment_id);

    let mut unnumbered: Vec<((DateTime<Utc>, u64), Entry)> = people
        .into_iter()
        .filter_map(|(email, mut cs)| {
            cs.sort_by_key(|&(at, id, _)| (at, id));
            let &(first_at, first_id, first_name) = cs.first()?;
            let display_name = cs.iter().map(|&(_, _, n)| n).find(|n| !n.is_empty()).unwrap_or(first_name);
            let entry = Entry {
                number: 0,
                display_name: display_name.to_owned(),
                email_hash: email_hash(&announcement.commitment, &email),
                first_comment_at: first_at,
                comment_times: cs.iter().map(|&(at, _, _)| at).collect(),
            };
            Some(((first_at, first_id), entry))
        })
        .collect();
    unnumbered.sort_by_key(|(key, _)| *key);
    let mut entries = Vec::with_capacity(unnumbered.len());
    for (i, (_, mut entry)) in unnumbered.into_iter().enumerate() {
        entry.number = u32::try_from(i + 1).map_err(|_| GiveawayError::TooManyEntries)?;
        entries.push(entry);
    }
    let hash = entry_list_hash(&entries);
    Ok(EntryList { commitment: announcement.commitment, closing: announcement.closing, entries, set_aside, hash })
}

fn put_u64(h: &mut Sha256, v: u64) {
    h.update(v.to_be_bytes());
}

fn put_len(h: &mut Sha256, len: usize) {
    put_u64(h, len as u64);
}

fn put_time(h: &mut Sha256, at: DateTime<Utc>) {
    h.update(at.timestamp().to_be_bytes());
}

/// The entry-list hash over the canonical encoding in the module documentation.
pub fn entry_list_hash(entries: &[Entry]) -> Digest {
    let mut h = Sha256::new();
    h.update(ENTRIES_TAG);
    put_len(&mut h, entries.len());
    for e in entries {
        put_u64(&mut h, u64::from(e.number));
        put_len(&mut h, e.display_name.len());
        h.update(e.display_name.as_bytes());
        h.update(e.email_hash.as_bytes());
        put_time(&mut h, e.first_comment_at);
        put_len(&mut h, e.comment_times.len());
        for &t in &e.comment_times {
            put_time(&mut h, t);
        }
    }
    Digest(h.finalize().into())
}

/// The deterministic stream of 64-bit words (see the module documentation).
struct WordStream {
    prefix: Sha256,
    block: u64,
    words: [u64; 4],
    next: usize,
}

impl WordStream {
    fn new(seed: &Seed, list_hash: &Digest, beacon: &str) -> Self {
        let mut prefix = Sha256::new();
        prefix.update(DRAW_TAG);
        prefix.update(seed.as_bytes());
        prefix.update(list_hash.as_bytes());
        put_len(&mut prefix, beacon.len());
        prefix.update(beacon.as_bytes());
        Self { prefix, block: 0, words: [0; 4], next: 4 }
    }

    fn next_word(&mut self) -> u64 {
        if self.next == 4 {
            let mut h = self.prefix.clone();
            put_u64(&mut h, self.block);
            let out: [u8; 32] = h.finalize().into();
            for (word, chunk) in self.words.iter_mut().zip(out.chunks_exact(8)) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                *word = u64::from_be_bytes(b);
            }
            self.block += 1;
            self.next = 0;
        }
        let w = self.words[self.next];
        self.next += 1;
        w
    }
}

/// A uniform number in `0..m` (`m >= 1`) from a word source, by rejection: no modulo bias.
fn uniform_below(m: u64, mut next_word: impl FnMut() -> u64) -> u64 {
    // 2^64 mod m, computed without 128-bit arithmetic.
    let excess = (u64::MAX % m + 1) % m;
    loop {
        let x = next_word();
        // Accept x < 2^64 - excess; when excess is 0 every word is accepted.
        if excess == 0 || x < 0u64.wrapping_sub(excess) {
            return x % m;
        }
    }
}

/// The winners' entry numbers, in draw order: `min(k, n)` distinct numbers from `1..=n`.
pub fn draw_winners(seed: &Seed, list_hash: &Digest, beacon: &str, n: u32, k: u32) -> Vec<u32> {
    let mut stream = WordStream::new(seed, list_hash, beacon);
    let mut pool: Vec<u32> = (1..=n).collect();
    let count = k.min(n) as usize;
    for i in 0..count {
        let remaining = (pool.len() - i) as u64;
        let j = i + uniform_below(remaining, || stream.next_word()) as usize;
        pool.swap(i, j);
    }
    pool.truncate(count);
    pool
}

/// Everything needed to check a draw; published as JSON after the draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedDraw {
    /// [`SCHEME_VERSION`].
    pub version: u32,
    pub title: String,
    /// The last instant that counted, Unix seconds in JSON.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub closing: DateTime<Utc>,
    pub commitment: Commitment,
    /// The revealed seed (hex).
    pub seed: Seed,
    /// The public beacon value, or the empty string.
    pub beacon: String,
    pub entries: Vec<Entry>,
    pub entry_list_hash: Digest,
    /// The number of prizes `k`.
    pub prizes: u32,
    /// Entry numbers in draw order.
    pub winners: Vec<u32>,
}

impl PublishedDraw {
    /// The winning entries, in draw order.
    pub fn winner_entries(&self) -> Vec<&Entry> {
        self.winners.iter().filter_map(|&w| self.entries.iter().find(|e| e.number == w)).collect()
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// Draws the winners with the revealed seed and an optional beacon (trimmed; empty for none).
pub fn draw(
    announcement: &Announcement,
    entries: &EntryList,
    seed: &Seed,
    beacon: &str,
) -> Result<PublishedDraw, GiveawayError> {
    if !announcement.commitment.matches(seed) {
        return Err(GiveawayError::SeedDoesNotMatchCommitment);
    }
    if entries.commitment != announcement.commitment || entries.closing != announcement.closing {
        return Err(GiveawayError::EntriesFromAnotherGiveaway);
    }
    let n = u32::try_from(entries.len()).map_err(|_| GiveawayError::TooManyEntries)?;
    let beacon = beacon.trim().to_owned();
    let winners = draw_winners(seed, &entries.hash, &beacon, n, announcement.prizes);
    Ok(PublishedDraw {
        version: SCHEME_VERSION,
        title: announcement.title.clone(),
        closing: announcement.closing,
        commitment: announcement.commitment,
        seed: seed.clone(),
        beacon,
        entries: entries.entries.clone(),
        entry_list_hash: entries.hash,
        prizes: announcement.prizes,
        winners,
    })
}

/// Recomputes a published draw; see the module documentation for what is checked, in which order.
pub fn verify(published: &PublishedDraw) -> Result<(), VerifyError> {
    if published.version != SCHEME_VERSION {
        return Err(VerifyError::UnsupportedVersion(published.version));
    }
    if !published.commitment.matches(&published.seed) {
        return Err(VerifyError::SeedMismatch);
    }
    let computed = entry_list_hash(&published.entries);
    if computed != published.entry_list_hash {
        return Err(VerifyError::EntryListHashMismatch { computed, published: published.entry_list_hash });
    }
    check_entries(published)?;
    // check_entries saw numbers 1..=len, all u32, so the length fits.
    let n = u32::try_from(published.entries.len()).unwrap_or(u32::MAX);
    let expected = draw_winners(&published.seed, &computed, &published.beacon, n, published.prizes);
    if expected != published.winners {
        return Err(VerifyError::WinnersMismatch { expected, published: published.winners.clone() });
    }
    Ok(())
}

fn check_entries(published: &PublishedDraw) -> Result<(), VerifyError> {
    let mut hashes: BTreeMap<Digest, u32> = BTreeMap::new();
    let mut previous: Option<&Entry> = None;
    for (i, e) in published.entries.iter().enumerate() {
        let position = i + 1;
        if u64::from(e.number) != position as u64 {
            return Err(VerifyError::EntryNumbering { position, number: e.number });
        }
        let times_ok =
            e.comment_times.first() == Some(&e.first_comment_at) && e.comment_times.windows(2).all(|w| w[0] <= w[1]);
        if !times_ok {
            return Err(VerifyError::CommentTimes { number: e.number });
        }
        if e.comment_times.iter().any(|t| t.timestamp() > published.closing.timestamp()) {
            return Err(VerifyError::CommentAfterClosing { number: e.number });
        }
        if let Some(p) = previous {
            if e.first_comment_at < p.first_comment_at {
                return Err(VerifyError::EntryOrder { number: e.number, previous: p.number });
            }
        }
        if let Some(&first) = hashes.get(&e.email_hash) {
            return Err(VerifyError::DuplicateEmailHash { first, second: e.number });
        }
        hashes.insert(e.email_hash, e.number);
        previous = Some(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uniform_rejects_the_biased_tail() {
        // 2^64 mod 3 = 1, so the largest word (2^64 - 1) must be rejected and the next one used.
        let mut words = [u64::MAX, 5].into_iter();
        assert_eq!(uniform_below(3, || words.next().unwrap()), 2);
        // Just below the limit is accepted: (2^64 - 2) mod 3 = 2.
        let mut words = [u64::MAX - 1].into_iter();
        assert_eq!(uniform_below(3, || words.next().unwrap()), 2);
        // m = 10: 2^64 mod 10 = 6; the six largest words are rejected.
        let mut words = [u64::MAX - 5, u64::MAX - 6].into_iter();
        assert_eq!(uniform_below(10, || words.next().unwrap()), (u64::MAX - 6) % 10);
        // A power of two rejects nothing; m = 1 still consumes a word.
        let mut words = [u64::MAX].into_iter();
        assert_eq!(uniform_below(4, || words.next().unwrap()), 3);
        let mut used = 0;
        assert_eq!(
            uniform_below(1, || {
                used += 1;
                u64::MAX
            }),
            0
        );
        assert_eq!(used, 1);
    }

    #[test]
    fn word_stream_uses_four_words_per_block_in_order() {
        let seed = Seed::from_bytes([7; 32]);
        let list = Digest::of(b"list");
        let mut stream = WordStream::new(&seed, &list, "beacon");
        let words: Vec<u64> = (0..8).map(|_| stream.next_word()).collect();
        for block in 0..2u64 {
            let mut data = Vec::new();
            data.extend_from_slice(DRAW_TAG);
            data.extend_from_slice(seed.as_bytes());
            data.extend_from_slice(list.as_bytes());
            data.extend_from_slice(&6u64.to_be_bytes());
            data.extend_from_slice(b"beacon");
            data.extend_from_slice(&block.to_be_bytes());
            let out = Digest::of(&data);
            for w in 0..4 {
                let bytes: [u8; 8] = out.as_bytes()[w * 8..w * 8 + 8].try_into().unwrap();
                assert_eq!(words[block as usize * 4 + w], u64::from_be_bytes(bytes));
            }
        }
    }

    #[test]
    fn seed_debug_hides_the_bytes() {
        let seed = Seed::from_bytes([0xab; 32]);
        assert_eq!(format!("{seed:?}"), "Seed(…)");
        assert!(!format!("{seed:?}").contains("ab"));
    }
}
