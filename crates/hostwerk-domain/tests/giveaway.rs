//! Giveaways: entry list rules, the draw, verification, uniformity.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hostwerk_domain::giveaway::{
    closing_at_end_of_berlin_day, draw, draw_winners, email_hash, entry_list_hash, freeze_entries, verify,
    Announcement, Comment, Commitment, Digest, EntryList, Exclusions, GiveawayError, HexError, PublishedDraw, Seed,
    SetAside, SetAsideReason, VerifyError, SCHEME_VERSION,
};
use hostwerk_domain::Language;
use proptest::prelude::*;

fn berlin(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Berlin.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap().with_timezone(&Utc)
}

/// A seed derived deterministically from a number (for tests only).
fn seed(i: u64) -> Seed {
    Seed::from_bytes(*Digest::of(format!("test seed {i}").as_bytes()).as_bytes())
}

fn closing() -> DateTime<Utc> {
    closing_at_end_of_berlin_day(NaiveDate::from_ymd_opt(2014, 2, 28).unwrap())
}

fn announcement(seed: &Seed, prizes: u32) -> Announcement {
    Announcement::new("Drei Tickets für die Konferenz", closing(), prizes, Commitment::of(seed)).unwrap()
}

/// `n` people, one comment each, a minute apart.
fn people(n: u32) -> Vec<Comment> {
    let start = berlin(2014, 2, 20, 9, 0, 0);
    (0..n)
        .map(|i| {
            Comment::new(
                u64::from(i) + 100,
                format!("Person {i}"),
                format!("person{i}@example.org"),
                start + Duration::minutes(i64::from(i)),
            )
        })
        .collect()
}

fn frozen(seed: &Seed, prizes: u32, comments: &[Comment]) -> (Announcement, EntryList) {
    let a = announcement(seed, prizes);
    let list = freeze_entries(&a, comments, &Exclusions::new()).unwrap();
    (a, list)
}

fn published(n: u32, prizes: u32, beacon: &str) -> PublishedDraw {
    let s = seed(1);
    let (a, list) = frozen(&s, prizes, &people(n));
    draw(&a, &list, &s, beacon).unwrap()
}

// ---- the entry list ----

#[test]
fn two_comments_of_one_person_are_merged_with_both_times() {
    let s = seed(0);
    let a = announcement(&s, 3);
    let comments = vec![
        Comment::new(1, "Anna", "anna@example.org", berlin(2014, 2, 27, 12, 0, 0)),
        Comment::new(2, "Torben", "torben@example.org", berlin(2014, 2, 27, 13, 4, 0)),
        Comment::new(3, "Torben K.", " Torben@Example.ORG ", berlin(2014, 2, 27, 15, 18, 0)),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    assert_eq!(list.len(), 2);
    let torben = &list.entries()[1];
    assert_eq!(torben.number, 2);
    assert_eq!(torben.display_name, "Torben");
    assert_eq!(torben.first_comment_at, berlin(2014, 2, 27, 13, 4, 0));
    assert_eq!(torben.comment_times, vec![berlin(2014, 2, 27, 13, 4, 0), berlin(2014, 2, 27, 15, 18, 0)]);
    assert!(torben.is_merged());
    assert_eq!(
        torben.merge_note(Language::De).unwrap(),
        "Kommentare vom 27. Februar 2014 13:04 Uhr und 27. Februar 2014 15:18 Uhr wurden zusammengefasst"
    );
    assert_eq!(
        torben.merge_note(Language::En).unwrap(),
        "comments of 27 February 2014 13:04 and 27 February 2014 15:18 were merged"
    );
    assert_eq!(torben.email_hash, email_hash(&a.commitment(), "torben@example.org"));
    let anna = &list.entries()[0];
    assert!(!anna.is_merged());
    assert_eq!(anna.merge_note(Language::De), None);
}

#[test]
fn three_merged_comments_are_listed_with_commas() {
    let s = seed(0);
    let a = announcement(&s, 1);
    let comments = vec![
        Comment::new(5, "Eva", "eva@example.org", berlin(2014, 2, 3, 8, 5, 0)),
        Comment::new(6, "Eva", "EVA@example.org", berlin(2014, 2, 1, 10, 0, 0)),
        Comment::new(7, "Eva", "eva@example.org", berlin(2014, 2, 2, 11, 30, 0)),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list.entries()[0].merge_note(Language::De).unwrap(),
        "Kommentare vom 1. Februar 2014 10:00 Uhr, 2. Februar 2014 11:30 Uhr und 3. Februar 2014 08:05 Uhr \
         wurden zusammengefasst"
    );
}

#[test]
fn plus_tags_and_gmail_dots_are_not_folded() {
    let s = seed(0);
    let a = announcement(&s, 1);
    let t = berlin(2014, 2, 1, 10, 0, 0);
    let comments = vec![
        Comment::new(1, "A", "anna@gmail.com", t),
        Comment::new(2, "A", "anna+blog@gmail.com", t),
        Comment::new(3, "A", "a.nna@gmail.com", t),
    ];
    assert_eq!(freeze_entries(&a, &comments, &Exclusions::new()).unwrap().len(), 3);
}

#[test]
fn staff_relatives_and_excluded_domains_are_set_aside_in_any_spelling() {
    let s = seed(0);
    let a = announcement(&s, 3);
    let t = berlin(2014, 2, 27, 12, 0, 0);
    let exclusions = Exclusions::new()
        .with_staff(["chef@hostwerk.example", " Support@Hostwerk.Example"])
        .with_relatives(["Oma.Erna@Example.net "])
        .with_domains(["@Provider.example"]);
    let comments = vec![
        Comment::new(1, "Chef", "  CHEF@hostwerk.example\t", t),
        Comment::new(2, "Support", "support@hostwerk.example", t),
        Comment::new(3, "Oma", "oma.erna@example.NET", t),
        Comment::new(4, "Kollege", "someone@PROVIDER.example", t),
        Comment::new(5, "Kunde", "kunde@sub.provider.example", t),
        Comment::new(6, "Kundin", "kundin@example.org", t),
    ];
    let list = freeze_entries(&a, &comments, &exclusions).unwrap();
    let names: Vec<&str> = list.entries().iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, ["Kunde", "Kundin"]);
    assert_eq!(
        list.set_aside(),
        [
            SetAside { comment_id: 1, reason: SetAsideReason::Staff },
            SetAside { comment_id: 2, reason: SetAsideReason::Staff },
            SetAside { comment_id: 3, reason: SetAsideReason::Relative },
            SetAside { comment_id: 4, reason: SetAsideReason::ExcludedDomain },
        ]
    );
    assert!(exclusions.excludes(" Chef@Hostwerk.EXAMPLE"));
    assert!(!exclusions.excludes("chef@hostwerk.example.org"));
}

#[test]
fn a_comment_at_the_closing_instant_counts_one_second_later_does_not() {
    let s = seed(0);
    let a = announcement(&s, 3);
    assert_eq!(a.closing(), Utc.with_ymd_and_hms(2014, 2, 28, 22, 59, 59).unwrap());
    let comments = vec![
        Comment::new(1, "Punkt", "punkt@example.org", a.closing()),
        Comment::new(2, "Knapp", "knapp@example.org", a.closing() + Duration::milliseconds(999)),
        Comment::new(3, "Spät", "spaet@example.org", a.closing() + Duration::seconds(1)),
        Comment::at_unix(4, "Unix", "unix@example.org", a.closing().timestamp()).unwrap(),
        Comment::at_unix(5, "Unix spät", "unix2@example.org", a.closing().timestamp() + 1).unwrap(),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    let names: Vec<&str> = list.entries().iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, ["Punkt", "Knapp", "Unix"]);
    assert_eq!(
        list.set_aside(),
        [
            SetAside { comment_id: 3, reason: SetAsideReason::AfterClosing },
            SetAside { comment_id: 5, reason: SetAsideReason::AfterClosing },
        ]
    );
    // A late second comment of someone who counts is dropped, not merged.
    let comments = vec![
        Comment::new(1, "Punkt", "punkt@example.org", a.closing()),
        Comment::new(2, "Punkt", "punkt@example.org", a.closing() + Duration::seconds(1)),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    assert_eq!(list.entries()[0].comment_times, vec![a.closing()]);
}

#[test]
fn entries_are_numbered_in_order_of_first_comment_ties_by_comment_id() {
    let s = seed(0);
    let a = announcement(&s, 3);
    let t = berlin(2014, 2, 10, 12, 0, 0);
    let comments = vec![
        Comment::new(30, "Dora", "dora@example.org", t + Duration::hours(3)),
        Comment::new(12, "Bert", "bert@example.org", t),
        Comment::new(11, "Carl", "carl@example.org", t),
        Comment::new(40, "Anton", "anton@example.org", t - Duration::hours(1)),
        Comment::new(50, "Anton", "anton@example.org", t + Duration::hours(5)),
        Comment::new(20, "", "emil@example.org", t + Duration::hours(4)),
        Comment::new(21, " Emil ", "emil@example.org", t + Duration::hours(6)),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    let got: Vec<(u32, &str)> = list.entries().iter().map(|e| (e.number, e.display_name.as_str())).collect();
    assert_eq!(got, [(1, "Anton"), (2, "Carl"), (3, "Bert"), (4, "Dora"), (5, "Emil")]);
    // The input order does not matter.
    let mut reversed = comments.clone();
    reversed.reverse();
    assert_eq!(freeze_entries(&a, &reversed, &Exclusions::new()).unwrap(), list);
}

#[test]
fn bad_input_is_refused() {
    let s = seed(0);
    let a = announcement(&s, 3);
    let t = berlin(2014, 2, 10, 12, 0, 0);
    let dup = vec![Comment::new(1, "A", "a@example.org", t), Comment::new(1, "B", "b@example.org", t)];
    assert_eq!(freeze_entries(&a, &dup, &Exclusions::new()), Err(GiveawayError::DuplicateCommentId(1)));
    let no_mail = vec![Comment::new(7, "A", "  ", t)];
    assert_eq!(freeze_entries(&a, &no_mail, &Exclusions::new()), Err(GiveawayError::MissingEmail { comment_id: 7 }));
    assert_eq!(Announcement::new("  ", closing(), 3, Commitment::of(&s)), Err(GiveawayError::EmptyTitle));
    assert_eq!(Announcement::new("T", closing(), 0, Commitment::of(&s)), Err(GiveawayError::NoPrizes));
    // A new giveaway must close after it is announced (issue 16).
    let c = Commitment::of(&s);
    let second = Duration::seconds(1);
    assert_eq!(Announcement::announce("T", closing(), 3, c, closing()), Err(GiveawayError::ClosingInThePast));
    assert_eq!(Announcement::announce("T", closing(), 3, c, closing() + second), Err(GiveawayError::ClosingInThePast));
    assert_eq!(
        Announcement::announce("T", closing(), 3, c, closing() - second).unwrap(),
        Announcement::new("T", closing(), 3, c).unwrap()
    );
    assert_eq!(
        Comment::at_unix(9, "A", "a@example.org", i64::MAX),
        Err(GiveawayError::TimeOutOfRange { comment_id: 9 })
    );
}

// ---- seeds and commitments ----

#[test]
fn seed_and_commitment_hex() {
    let zero = Seed::from_bytes([0; 32]);
    // SHA-256 of 32 zero bytes.
    assert_eq!(Commitment::of(&zero).to_hex(), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
    let s = seed(3);
    let hex = s.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(Seed::parse_hex(&hex).unwrap(), s);
    assert_eq!(Seed::parse_hex(&format!(" {} ", hex.to_uppercase())).unwrap(), s);
    assert_eq!(Seed::parse_hex("abc"), Err(HexError::WrongLength(3)));
    assert_eq!(Seed::parse_hex(&"g".repeat(64)), Err(HexError::NotHex));
    assert!(!format!("{s:?}").contains(&hex[..8]));
    let c = Commitment::of(&s);
    assert_eq!(c.to_string().parse::<Commitment>().unwrap(), c);
    assert!(c.matches(&s));
    assert!(!c.matches(&seed(4)));
}

#[test]
fn drawing_with_another_seed_or_another_giveaways_list_is_refused() {
    let s = seed(1);
    let (a, list) = frozen(&s, 3, &people(5));
    assert_eq!(draw(&a, &list, &seed(2), "").unwrap_err(), GiveawayError::SeedDoesNotMatchCommitment);
    let other = seed(2);
    let (_, other_list) = frozen(&other, 3, &people(5));
    assert_eq!(draw(&a, &other_list, &s, "").unwrap_err(), GiveawayError::EntriesFromAnotherGiveaway);
}

// ---- the draw ----

#[test]
fn same_inputs_give_the_same_winners() {
    let a = published(40, 3, "drand 123");
    let b = published(40, 3, "drand 123");
    assert_eq!(a.winners, b.winners);
    assert_eq!(a.winners.len(), 3);
    // The beacon is trimmed.
    assert_eq!(published(40, 3, "  drand 123\n").winners, a.winners);
}

#[test]
fn another_seed_gives_other_winners() {
    let comments = people(50);
    let winners: Vec<Vec<u32>> = (10..20)
        .map(|i| {
            let s = seed(i);
            let (a, list) = frozen(&s, 3, &comments);
            draw(&a, &list, &s, "").unwrap().winners
        })
        .collect();
    for (i, w) in winners.iter().enumerate() {
        for other in &winners[i + 1..] {
            assert_ne!(w, other);
        }
    }
}

#[test]
fn with_fewer_entries_than_prizes_everyone_wins() {
    let d = published(2, 3, "");
    let mut w = d.winners.clone();
    w.sort_unstable();
    assert_eq!(w, [1, 2]);
    verify(&d).unwrap();
    let empty = published(0, 3, "");
    assert!(empty.winners.is_empty());
    verify(&empty).unwrap();
}

#[test]
fn the_draw_for_k_prizes_is_a_prefix_of_the_draw_for_more() {
    let s = seed(5);
    let h = Digest::of(b"list");
    let three = draw_winners(&s, &h, "", 30, 3);
    let ten = draw_winners(&s, &h, "", 30, 10);
    assert_eq!(three, ten[..3]);
}

/// Fixed inputs and outputs, so that a re-implementation can check itself and any change to the scheme
/// shows up here.
#[test]
fn known_answer() {
    let s = Seed::from_bytes([0; 32]);
    let a = Announcement::new("Test", Utc.timestamp_opt(1_393_628_399, 0).unwrap(), 3, Commitment::of(&s)).unwrap();
    let comments = vec![
        Comment::at_unix(1, "Anna", "anna@example.org", 1_393_502_640).unwrap(),
        Comment::at_unix(2, "Torben", "torben@example.org", 1_393_502_640).unwrap(),
        Comment::at_unix(3, "Torben", "Torben@example.org", 1_393_510_680).unwrap(),
        Comment::at_unix(4, "Chris", "chris@example.org", 1_393_520_000).unwrap(),
        Comment::at_unix(5, "Dana", "dana@example.org", 1_393_530_000).unwrap(),
        Comment::at_unix(6, "Emil", "emil@example.org", 1_393_540_000).unwrap(),
    ];
    let list = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    assert_eq!(
        list.entries()[0].email_hash.to_hex(),
        "d713569c36d12671b055164f5adc510664a4e5a7c879bea0157692c5701089db"
    );
    assert_eq!(list.hash().to_hex(), "adf914aad6fb10a1e7d86a6a8dfa8038baffbda23f9f686e01536e029d49c4f0");
    let d = draw(&a, &list, &s, "beacon").unwrap();
    assert_eq!(d.winners, [1, 4, 3]);
}

// ---- verification ----

#[test]
fn a_valid_draw_verifies_also_after_a_json_round_trip() {
    let d = published(25, 3, "drand round 4711: 8f2c");
    verify(&d).unwrap();
    let json = d.to_json().unwrap();
    let back = PublishedDraw::from_json(&json).unwrap();
    assert_eq!(back, d);
    verify(&back).unwrap();
    assert_eq!(back.version, SCHEME_VERSION);
    assert_eq!(back.winner_entries().len(), 3);
    assert_eq!(back.winner_entries()[0].number, back.winners[0]);
}

#[test]
fn the_json_holds_hashes_not_addresses() {
    let d = published(5, 1, "");
    let json = d.to_json().unwrap();
    assert!(!json.contains("@example.org"));
    assert!(json.contains(&d.seed.to_hex()));
    assert!(json.contains(&d.entries[0].email_hash.to_hex()));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["closing"], serde_json::json!(closing().timestamp()));
    assert_eq!(v["entries"][0]["first_comment_at"], serde_json::json!(d.entries[0].first_comment_at.timestamp()));
    // A participant finds their entry from their own address.
    let mine = email_hash(&d.commitment, " Person3@Example.org");
    assert_eq!(d.entries.iter().find(|e| e.email_hash == mine).unwrap().display_name, "Person 3");
}

fn assert_list_changed(d: &PublishedDraw) {
    match verify(d) {
        Err(VerifyError::EntryListHashMismatch { computed, published }) => {
            assert_eq!(published, d.entry_list_hash);
            assert_eq!(computed, entry_list_hash(&d.entries));
            let msg = verify(d).unwrap_err().to_string();
            assert_eq!(
                msg,
                format!("the entry list was changed: its hash is {computed}, the published hash is {published}")
            );
        }
        other => panic!("expected EntryListHashMismatch, got {other:?}"),
    }
}

#[test]
fn a_changed_entry_list_is_detected() {
    let d = published(10, 3, "");
    let mut renamed = d.clone();
    renamed.entries[4].display_name.push('x');
    assert_list_changed(&renamed);

    let mut rehashed = d.clone();
    rehashed.entries[4].email_hash = Digest::of(b"someone else");
    assert_list_changed(&rehashed);

    let mut reordered = d.clone();
    reordered.entries.swap(2, 3);
    assert_list_changed(&reordered);

    let mut removed = d.clone();
    removed.entries.remove(7);
    assert_list_changed(&removed);

    let mut retimed = d.clone();
    let later = retimed.entries[0].first_comment_at + Duration::seconds(1);
    retimed.entries[0].comment_times.push(later);
    assert_list_changed(&retimed);

    let mut list_hash = d.clone();
    list_hash.entry_list_hash = Digest::of(b"other");
    assert_list_changed(&list_hash);
}

#[test]
fn a_changed_list_with_a_fresh_hash_is_still_caught() {
    let d = published(10, 3, "");
    let rehash = |mut d: PublishedDraw| {
        d.entry_list_hash = entry_list_hash(&d.entries);
        d
    };
    let mut removed = d.clone();
    removed.entries.remove(7);
    assert_eq!(verify(&rehash(removed)), Err(VerifyError::EntryNumbering { position: 8, number: 9 }));

    let mut swapped = d.clone();
    swapped.entries.swap(2, 3);
    swapped.entries[2].number = 3;
    swapped.entries[3].number = 4;
    assert_eq!(verify(&rehash(swapped)), Err(VerifyError::EntryOrder { number: 4, previous: 3 }));

    let mut twice = d.clone();
    twice.entries[5].email_hash = twice.entries[1].email_hash;
    assert_eq!(verify(&rehash(twice)), Err(VerifyError::DuplicateEmailHash { first: 2, second: 6 }));

    let mut late = d.clone();
    let last = late.entries.len() - 1;
    let after = late.closing + Duration::seconds(1);
    late.entries[last].comment_times.push(after);
    assert_eq!(verify(&rehash(late)), Err(VerifyError::CommentAfterClosing { number: 10 }));

    let mut times = d.clone();
    times.entries[0].comment_times.clear();
    assert_eq!(verify(&rehash(times)), Err(VerifyError::CommentTimes { number: 1 }));

    // Entries with the same winners but more people: the winners change with the list hash.
    let mut added = d.clone();
    let mut extra = added.entries[9].clone();
    extra.number = 11;
    extra.email_hash = Digest::of(b"a fake entry");
    added.entries.push(extra);
    assert!(matches!(verify(&rehash(added)), Err(VerifyError::WinnersMismatch { .. })));
}

#[test]
fn a_changed_seed_is_detected() {
    let mut d = published(10, 3, "");
    d.seed = seed(99);
    assert_eq!(verify(&d), Err(VerifyError::SeedMismatch));
    assert_eq!(verify(&d).unwrap_err().to_string(), "the seed does not match the commitment");
    // Changing the commitment along with it does not help either.
    d.commitment = Commitment::of(&d.seed);
    assert!(matches!(verify(&d), Err(VerifyError::WinnersMismatch { .. })));
}

#[test]
fn a_changed_beacon_is_detected() {
    let mut d = published(10, 3, "drand 1000");
    d.beacon = "drand 1001".into();
    match verify(&d) {
        Err(VerifyError::WinnersMismatch { expected, published }) => {
            assert_eq!(published, d.winners);
            assert_ne!(expected, published);
        }
        other => panic!("expected WinnersMismatch, got {other:?}"),
    }
}

#[test]
fn changed_winners_are_detected() {
    let d = published(10, 3, "");
    let right = d.winners.clone();
    let mut changed = d.clone();
    let outsider = (1..=10).find(|n| !right.contains(n)).unwrap();
    changed.winners[0] = outsider;
    let err = verify(&changed).unwrap_err();
    assert_eq!(err, VerifyError::WinnersMismatch { expected: right.clone(), published: changed.winners.clone() });
    assert_eq!(
        err.to_string(),
        format!("the winners do not match the draw: expected {right:?}, published {:?}", changed.winners)
    );

    let mut reordered = d.clone();
    reordered.winners.swap(0, 1);
    assert!(matches!(verify(&reordered), Err(VerifyError::WinnersMismatch { .. })));

    let mut fewer = d.clone();
    fewer.winners.pop();
    assert!(matches!(verify(&fewer), Err(VerifyError::WinnersMismatch { .. })));

    let mut more_prizes = d.clone();
    more_prizes.prizes = 4;
    assert!(matches!(verify(&more_prizes), Err(VerifyError::WinnersMismatch { .. })));

    let mut version = d;
    version.version = 2;
    assert_eq!(verify(&version), Err(VerifyError::UnsupportedVersion(2)));
}

// ---- uniformity ----

#[test]
fn one_winner_of_ten_is_uniform_chi_square() {
    let list_hash = Digest::of(b"ten entries");
    let draws = 20_000u64;
    let mut counts = [0u64; 10];
    for i in 0..draws {
        let w = draw_winners(&seed(i), &list_hash, "", 10, 1);
        assert_eq!(w.len(), 1);
        counts[(w[0] - 1) as usize] += 1;
    }
    let expected = draws as f64 / 10.0;
    let chi2: f64 = counts.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
    // The 0.999 quantile of chi-square with 9 degrees of freedom. Fixed seeds: the test is deterministic.
    assert!(chi2 < 27.88, "chi-square {chi2} with counts {counts:?}");
}

#[test]
fn three_winners_of_nineteen_are_distinct_and_in_range() {
    let list_hash = Digest::of(b"nineteen entries");
    let mut firsts = [0u32; 19];
    for i in 0..2_000 {
        let w = draw_winners(&seed(i), &list_hash, "b", 19, 3);
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|n| (1..=19).contains(n)), "{w:?}");
        assert!(w[0] != w[1] && w[0] != w[2] && w[1] != w[2], "{w:?}");
        firsts[(w[0] - 1) as usize] += 1;
    }
    // Every entry can win.
    assert!(firsts.iter().all(|&c| c > 0), "{firsts:?}");
}

proptest! {
    #[test]
    fn winners_are_distinct_in_range_and_verify(
        n in 1u32..60,
        k in 1u32..5,
        seed_bytes in proptest::array::uniform32(any::<u8>()),
        beacon in "[ -~]{0,20}",
    ) {
        let s = Seed::from_bytes(seed_bytes);
        let (a, list) = frozen(&s, k, &people(n));
        let d = draw(&a, &list, &s, &beacon).unwrap();
        prop_assert_eq!(d.winners.len() as u32, k.min(n));
        prop_assert!(d.winners.iter().all(|w| (1..=n).contains(w)));
        let mut sorted = d.winners.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), d.winners.len());
        prop_assert_eq!(verify(&d), Ok(()));
    }
}

#[test]
fn closing_at_the_end_of_a_berlin_day() {
    let winter = closing_at_end_of_berlin_day(NaiveDate::from_ymd_opt(2014, 2, 28).unwrap());
    assert_eq!(winter, Utc.with_ymd_and_hms(2014, 2, 28, 22, 59, 59).unwrap());
    let summer = closing_at_end_of_berlin_day(NaiveDate::from_ymd_opt(2014, 7, 31).unwrap());
    assert_eq!(summer, Utc.with_ymd_and_hms(2014, 7, 31, 21, 59, 59).unwrap());
}
