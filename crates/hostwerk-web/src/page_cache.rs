//! Rendered dashboards, kept per customer and language and reused while what they show is unchanged.
//!
//! A dashboard is the same page as long as the customer's data versions (counted up by database triggers on
//! every change of the contracts, domains, mailboxes, refunds and advisories it lists, whoever makes it), the
//! customer's own fields and the day in Berlin (contracts show dates relative to today) are the same. The
//! versions come with the session lookup every page makes anyway, so a reused page costs no further query;
//! they are read before the page's data, so a kept page is never older than the versions it is kept under.
//! The one per-browser part of the page is its CSRF token: the page is kept split around it, and each answer
//! joins the parts with the token of the browser asking. Pages with a one-time notice (`?done=…`) are never
//! kept. The cache is bounded by the bytes it holds; `dashboard_cache_mib = 0` turns it off.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use hostwerk_domain::Language;
use hostwerk_store::{Customer, DataVersion};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// The shortest token the cache splits pages around: a random token this long never occurs in a page by chance.
const MIN_TOKEN_LEN: usize = 16;

/// Rendered pages by customer id and language.
pub(crate) struct PageCache {
    pages: Option<Cache<(i64, Language), Arc<Kept>, ByBytes>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache").field("enabled", &self.pages.is_some()).finish()
    }
}

/// A kept page and what it was rendered from.
struct Kept {
    version: DataVersion,
    day: NaiveDate,
    number: u32,
    name: String,
    email: String,
    /// The page split at each occurrence of the CSRF token it was rendered with.
    parts: Vec<String>,
    bytes: usize,
}

impl Kept {
    fn shows(&self, customer: &Customer, day: NaiveDate) -> bool {
        self.version == customer.data_version
            && self.day == day
            && self.name == customer.name
            && self.email == customer.email.as_str()
            && self.number == customer.number.sequence()
    }
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<(i64, Language), Arc<Kept>> for ByBytes {
    fn weight(&self, _: &(i64, Language), page: &Arc<Kept>) -> u64 {
        u64::try_from(page.bytes).unwrap_or(u64::MAX).max(1)
    }
}

impl PageCache {
    /// A cache holding up to `mib` MiB of pages; none at all for 0.
    pub(crate) fn new(mib: u64) -> Self {
        let bytes = mib.saturating_mul(1 << 20);
        // Estimated count for the table's initial size: dashboards are a few KiB each.
        let estimated = usize::try_from(bytes / 8192).unwrap_or(usize::MAX).clamp(16, 1 << 16);
        Self {
            pages: (bytes > 0).then(|| Cache::with_weighter(estimated, bytes, ByBytes)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Pages answered from the cache and pages looked for in vain, since start.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// The kept page of `customer` in `lang`, if it still shows what a fresh render would, with `csrf` spliced in.
    pub(crate) fn get(&self, customer: &Customer, lang: Language, day: NaiveDate, csrf: &str) -> Option<String> {
        let pages = self.pages.as_ref()?;
        let kept =
            pages.get(&(customer.id.0, lang)).filter(|kept| csrf.len() >= MIN_TOKEN_LEN && kept.shows(customer, day));
        let Some(kept) = kept else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        let mut page = String::with_capacity(kept.bytes + csrf.len() * kept.parts.len());
        for (i, part) in kept.parts.iter().enumerate() {
            if i > 0 {
                page.push_str(csrf);
            }
            page.push_str(part);
        }
        Some(page)
    }

    /// Keeps `page`, rendered for `customer` in `lang` on `day` with the CSRF token `csrf`.
    pub(crate) fn put(&self, customer: &Customer, lang: Language, day: NaiveDate, csrf: &str, page: &str) {
        let Some(pages) = &self.pages else { return };
        if csrf.len() < MIN_TOKEN_LEN {
            return;
        }
        let parts: Vec<String> = page.split(csrf).map(str::to_owned).collect();
        let kept = Kept {
            version: customer.data_version,
            day,
            number: customer.number.sequence(),
            name: customer.name.clone(),
            email: customer.email.as_str().to_owned(),
            bytes: parts.iter().map(String::len).sum(),
            parts,
        };
        pages.insert((customer.id.0, lang), Arc::new(kept));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hostwerk_domain::{CustomerNumber, EmailAddress, PostalAddress};
    use hostwerk_store::CustomerId;

    fn customer(id: i64) -> Customer {
        Customer {
            id: CustomerId(id),
            number: CustomerNumber::parse("K1000001").unwrap(),
            name: "Erika Mustermann".into(),
            email: EmailAddress::parse("erika@example.de").unwrap(),
            address: PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "DE").unwrap(),
            language: Language::De,
            created_at: chrono::DateTime::default(),
            data_version: DataVersion { own: 3, shared: 7 },
        }
    }

    const TOKEN_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const TOKEN_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn splices_the_asking_browsers_token() {
        let cache = PageCache::new(1);
        let erika = customer(1);
        let page = format!("<form><input name=csrf value=\"{TOKEN_A}\"></form><form value=\"{TOKEN_A}\"></form>");
        assert_eq!(cache.get(&erika, Language::De, day(27), TOKEN_A), None, "nothing kept yet");
        cache.put(&erika, Language::De, day(27), TOKEN_A, &page);
        assert_eq!(cache.get(&erika, Language::De, day(27), TOKEN_A).as_deref(), Some(page.as_str()));
        assert_eq!(cache.get(&erika, Language::De, day(27), TOKEN_B), Some(page.replace(TOKEN_A, TOKEN_B)));
    }

    #[test]
    fn anything_the_page_shows_changing_misses() {
        let cache = PageCache::new(1);
        let erika = customer(1);
        cache.put(&erika, Language::De, day(27), TOKEN_A, "page");
        let hit = |c: &Customer, lang: Language, d: NaiveDate| cache.get(c, lang, d, TOKEN_A).is_some();
        assert!(hit(&erika, Language::De, day(27)));
        assert!(!hit(&erika, Language::En, day(27)), "another language");
        assert!(!hit(&erika, Language::De, day(28)), "the next day");
        assert!(!hit(&customer(2), Language::De, day(27)), "another customer");
        let mut changed = erika.clone();
        changed.data_version.own += 1;
        assert!(!hit(&changed, Language::De, day(27)), "the customer's rows changed");
        let mut changed = erika.clone();
        changed.data_version.shared += 1;
        assert!(!hit(&changed, Language::De, day(27)), "shared rows changed");
        let mut changed = erika.clone();
        changed.name = "Erika Musterfrau".into();
        assert!(!hit(&changed, Language::De, day(27)), "the customer's name changed");
        let mut changed = erika.clone();
        changed.email = EmailAddress::parse("erika@example.org").unwrap();
        assert!(!hit(&changed, Language::De, day(27)), "the customer's e-mail changed");
    }

    #[test]
    fn short_tokens_and_a_disabled_cache_keep_nothing() {
        let erika = customer(1);
        let cache = PageCache::new(1);
        cache.put(&erika, Language::De, day(27), "", "page");
        assert_eq!(cache.get(&erika, Language::De, day(27), ""), None);
        cache.put(&erika, Language::De, day(27), "short", "page");
        assert_eq!(cache.get(&erika, Language::De, day(27), "short"), None);
        let off = PageCache::new(0);
        off.put(&erika, Language::De, day(27), TOKEN_A, "page");
        assert_eq!(off.get(&erika, Language::De, day(27), TOKEN_A), None);
    }

    #[test]
    fn holds_no_more_than_its_bytes() {
        let cache = PageCache::new(1);
        let page = "x".repeat(100 * 1024);
        for id in 0..100 {
            cache.put(&customer(id), Language::De, day(27), TOKEN_A, &page);
        }
        let kept = (0..100).filter(|id| cache.get(&customer(*id), Language::De, day(27), TOKEN_A).is_some()).count();
        assert!((1..=10).contains(&kept), "1 MiB holds at most ten 100 KiB pages, kept {kept}");
    }
}
